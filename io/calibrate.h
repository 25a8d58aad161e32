/* `windtunnel calibrate`: the cost model's error against every measured dataset in a directory
 * laid out like ../shared/data, a check against committed figures, and the refit of the data
 * files (hw/data/efficiency.csv, power.csv; net/data/collective.csv). */
#ifndef IO_CALIBRATE_H
#define IO_CALIBRATE_H

#include <mpi.h>

/* The subcommand: argv[0] is "calibrate". Rank 0 does the work; every rank returns its exit
 * status (0, 1 for a failed check or an error, 2 for bad usage). */
int io_calibrate_main(int argc, char **argv, MPI_Comm comm);

#endif
