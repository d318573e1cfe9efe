"""The PyTorch process of a side-by-side bench, set up so that the reference runs at its best on this machine.

Import it before torch: prepare_reference_process() may restart the process with a different environment.
"""
import os
import sys

# glibc serves blocks of 128 KiB+ (32 MiB+ once tuned) by mmap and unmaps them when freed, so each call's
# fresh activations and gradients fault their pages in again, ~8 us a page on these VMs: MobileNet-v1's step
# took 615 ms instead of 178, the tiny model's patch forward 18 ms instead of 1.8. Keep all in the heap.
MALLOC_KEEPS_MEMORY = 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296'


def prepare_reference_process():
    """Restarts this script, once, with glibc's allocator keeping freed memory and, on AVX-512 CPUs, OpenBLAS's
    SkylakeX kernels: OpenBLAS 0.3.21 (Debian 12) takes AMD's AVX-512 CPUs for Haswell, and some machines
    preset OPENBLAS_CORETYPE=Haswell; SkylakeX's kernels run a 1024^3 product 1.7x faster on Zen 5."""
    wanted = {'GLIBC_TUNABLES': MALLOC_KEEPS_MEMORY}
    with open('/proc/cpuinfo') as cpuinfo:
        if 'avx512f' in cpuinfo.read().split():
            wanted['OPENBLAS_CORETYPE'] = 'SkylakeX'
    if any(os.environ.get(key) != value for key, value in wanted.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **wanted})


def blas_library():
    """The folder of the libblas.so.3 that torch loaded, as Debian's alternatives name it: 'blas' is Netlib's
    reference BLAS (this build's matrix products and Linear layers at 4-7 GFLOP/s), 'openblas-openmp' is
    OpenBLAS (apt-get install -y libopenblas0-openmp), with the kernels it was told to use."""
    with open('/proc/self/maps') as maps:
        paths = {line.split()[-1] for line in maps if 'libblas.so' in line}
    name = ', '.join(sorted(os.path.basename(os.path.dirname(path)) for path in paths)) or 'unknown'
    core = os.environ.get('OPENBLAS_CORETYPE')
    return f'{name} ({core} kernels)' if core and 'openblas' in name else name
