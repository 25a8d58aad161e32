/* The subcommands of windtunnel that live in files of their own. Each takes its own argv (argv[0]
 * is the command's name), is collective over comm, and returns the process's exit status: 0, 1 for
 * a failure, 2 for bad usage. Commands that need no MPI get comm == MPI_COMM_NULL (MPI is not
 * initialised) and ask app_rank for their rank. */
#ifndef APP_COMMANDS_H
#define APP_COMMANDS_H

#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>

struct srv_study;

/* This process's rank in comm, or, with MPI_COMM_NULL, its launcher's rank (mpirun, srun; 0 when
 * not launched), so that rank 0 alone prints. */
int app_rank(MPI_Comm comm);
/* `windtunnel run SCENARIO`: a simulation, its timeline and summary (app/run.c). */
int app_run(int argc, char **argv, MPI_Comm comm);
/* `windtunnel check SCENARIO`: the scenario read and checked, nothing run (app/run.c). */
int app_check(int argc, char **argv, MPI_Comm comm);
/* `windtunnel report FILE.h5 [B.h5]`: a timeline's summary, or two compared (app/report.c). */
int app_report(int argc, char **argv, MPI_Comm comm);
/* `windtunnel calibrate`: the cost model's error against measured data (rank 0 works). */
int app_calibrate(int argc, char **argv, MPI_Comm comm);
/* `windtunnel validate`: measured serving runs replayed and compared (every rank replays). */
int app_validate(int argc, char **argv, MPI_Comm comm);
/* `windtunnel phold`: the engine's PHOLD benchmark with ROSS's parameters. */
int app_phold(int argc, char **argv, MPI_Comm comm);

/* `windtunnel sweep`: a design study's configurations, concurrently in groups of ranks. */
int app_sweep(int argc, char **argv, MPI_Comm comm);
/* One process, no MPI: the results file of `windtunnel sweep` (results), written for study st, as
 * CSV on out (a header, then a row per configuration; without wall_s when no_wall), as `sweep
 * --csv` prints it. Returns 0, or -1 with a message. */
int app_sweep_csv(const struct srv_study *st, const char *results, bool no_wall, FILE *out,
                  char *err, size_t err_len);
/* `windtunnel plot FILE.h5`: pictures of a timeline, drawn by gnuplot. Needs no MPI: one process
 * calls it (argv[0] is "plot"). */
int app_plot(int argc, char **argv);
/* `windtunnel trace FILE.h5 -o run.json`: the timeline as Chrome trace-event JSON for Perfetto.
 * Needs no MPI: one process calls it. */
int app_trace(int argc, char **argv);

#endif
