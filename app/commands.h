/* The subcommands of windtunnel that live in files of their own. Each takes its own argv (argv[0]
 * is the command's name), is collective over comm, and returns the process's exit status: 0, 1 for
 * a failure, 2 for bad usage. */
#ifndef APP_COMMANDS_H
#define APP_COMMANDS_H

#include <mpi.h>

/* `windtunnel calibrate`: the cost model's error against measured data (rank 0 works). */
int app_calibrate(int argc, char **argv, MPI_Comm comm);
/* `windtunnel phold`: the engine's PHOLD benchmark with ROSS's parameters. */
int app_phold(int argc, char **argv, MPI_Comm comm);

/* `windtunnel sweep`: a design study's configurations, concurrently in groups of ranks. */
int app_sweep(int argc, char **argv, MPI_Comm comm);

#endif
