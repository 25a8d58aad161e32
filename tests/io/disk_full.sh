#!/bin/sh
# The full-disk case of test_timeline_mpi on an 8 MiB tmpfs at 2 ranks; skipped (exit 77) where
# this user may not mount one. usage: disk_full.sh MPIEXEC TEST_TIMELINE_MPI
dir=$(mktemp -d)
if ! mount -t tmpfs -o size=8m tmpfs "$dir" 2>/dev/null; then
  rmdir "$dir"
  echo "disk_full: cannot mount a tmpfs here: skipped"
  exit 77
fi
"$1" --allow-run-as-root --oversubscribe -np 2 "$2" diskfull "$dir/run.h5"
status=$?
umount "$dir" && rmdir "$dir"
exit $status
