/* PHOLD, the standard PDES benchmark, with ROSS's parameters; `windtunnel phold`. */
#ifndef JOB_PHOLD_H
#define JOB_PHOLD_H

#include <mpi.h>

/* Runs the phold subcommand (argv[0] is "phold"). Collective over comm. Returns the exit status. */
int job_phold_main(int argc, char **argv, MPI_Comm comm);

#endif
