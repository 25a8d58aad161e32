# Spack package for Windtunnel. Use it from a repository of your own:
#   spack repo create myrepo && mkdir -p myrepo/packages/windtunnel
#   cp packaging/spack/package.py myrepo/packages/windtunnel/ && spack repo add myrepo
#   spack install windtunnel@main          (or: spack dev-build windtunnel@main in a checkout)
# It builds with CMake, installs bin/windtunnel, share/windtunnel/examples, the engine library
# (lib/libwt_core.a, include/windtunnel) with its CMake package and pkg-config file.

from spack.package import *


class Windtunnel(CMakePackage):
    """A conservative parallel discrete-event simulator of LLM serving datacenters (MPI ranks x
    OpenMP threads, parallel HDF5 timeline): latency, utilisation and power of a cluster design
    under a real request trace."""

    # The project has no public address yet: point git (and homepage) at your site's mirror of
    # the repository, or build a checkout with `spack dev-build windtunnel@main`.
    homepage = "https://example.org/windtunnel"
    git = "https://example.org/windtunnel.git"

    license("BSD-3-Clause")

    version("main", branch="main")

    depends_on("c", type="build")
    depends_on("cmake@3.25:", type="build")
    depends_on("pkgconfig", type="build")
    depends_on("mpi")
    depends_on("hdf5+mpi~cxx~fortran")
    depends_on("hwloc")
    depends_on("libyaml")
    depends_on("metis")
    depends_on("random123")
    depends_on("cunit", type=("build", "test"))
    depends_on("py-h5py", type="test")
    depends_on("py-pandas", type="test")

    def cmake_args(self):
        # No git checkout in Spack's stage: `windtunnel version` names the package's version.
        return [
            self.define("CMAKE_BUILD_TYPE", "Release"),
            self.define("WT_GIT_COMMIT", "spack-{0}".format(self.spec.version)),
            self.define("MPIEXEC_EXECUTABLE", self.spec["mpi"].prefix.bin.mpirun),
        ]

    def setup_run_environment(self, env):
        # The binary finds share/windtunnel next to itself; this also serves wrappers elsewhere.
        env.set("WINDTUNNEL_DATA", self.prefix.share.windtunnel)

    @run_after("install")
    @on_package_attributes(run_tests=True)
    def check_installed(self):
        windtunnel = Executable(self.prefix.bin.windtunnel)
        windtunnel("version")
        windtunnel("check")
