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
/* `windtunnel plot FILE.h5`: pictures of a timeline, drawn by gnuplot. Needs no MPI: one process
 * calls it (argv[0] is "plot"). */
int app_plot(int argc, char **argv);
/* `windtunnel trace FILE.h5 -o run.json`: the timeline as Chrome trace-event JSON for Perfetto.
 * Needs no MPI: one process calls it. */
int app_trace(int argc, char **argv);

#endif
