# Sourced by the multi-process tests and the bench: `mpi N ARGS...` runs ARGS on N local ranks
# with OpenMPI over loopback only (shared memory between the ranks, TCP on lo for the rest, no
# ssh, no network interfaces probed), as root too (CI runs as root). MABDET_MPI names an MPI build
# of mabdet (make test passes ./mabdet with MPI=1, else BUILD/mabdet-mpi when mpicxx exists).
# have_mpi: that binary and mpirun are both there.
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
# CMA single-copy needs ptrace rights that containers often withhold; plm isolated: one node.
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_plm=isolated
have_mpi() { [ -n "${MABDET_MPI:-}" ] && [ -x "$MABDET_MPI" ] && command -v mpirun > /dev/null 2>&1; }
mpi() {
  local n=$1
  shift
  mpirun --allow-run-as-root --oversubscribe -np "$n" "$@"
}
