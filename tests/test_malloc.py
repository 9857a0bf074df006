"""The memory of grading processes: freed tensors reused (retain_freed_memory), the heap in huge pages
once (sandbox.huge_pages) and not after."""

import subprocess
import sys

# What a lane does for every student in test_large_batch: gather from 100 000 sequences, compare the
# result in float64 (about 20 temporary tensors of 0.8 to 6.4 MB). Prints the page faults of 10 rounds.
_ROUNDS = """
import resource, sys
from autograder.sandbox.malloc import retain_freed_memory
if sys.argv[1] == "retain":
    assert retain_freed_memory()
import torch
torch.set_num_threads(1)
hiddens, lengths = torch.randn(100_000, 4, 2), torch.randint(1, 5, (100_000,))
def one_round():
    got = hiddens[torch.arange(100_000), lengths - 1]
    expected = hiddens.gather(1, (lengths - 1).view(-1, 1, 1).expand(-1, 1, 2)).squeeze(1)
    assert torch.allclose(got.double(), expected.double())
one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    one_round()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _ROUNDS, mode], capture_output=True, text=True, timeout=60, check=True)
    return int(done.stdout)


def test_tensors_freed_are_reused_without_page_faults():
    plain, retained = _faults("plain"), _faults("retain")
    # glibc's default: many of the temporaries are fresh pages each round (18 600 faults measured once,
    # 6 900-7 300 on this machine since, where the kernel gives the fresh mappings more huge pages)
    assert plain > 4000
    assert retained < plain / 2, (plain, retained)  # 1 750-1 900 measured: the same memory round after round


# A zygote in small: keeps freed memory, imports torch, warms up and collapses its heap; then 10 forks
# allocate Python objects and tensors, as submission and call processes do. Prints how many 2 MiB pages
# the kernel allocated (and zeroed) on a fault meanwhile, machine-wide.
_FORKS = """
import os
from autograder.sandbox.malloc import retain_freed_memory
retain_freed_memory()
import torch
from autograder.sandbox import walls as sandbox, worker
worker._warm_up()
sandbox.huge_pages()
def huge_faults():
    return next(int(line.split()[1]) for line in open("/proc/vmstat") if line.startswith("thp_fault_alloc "))
before = huge_faults()
for _ in range(10):
    pid = os.fork()
    if pid == 0:
        objects = [{"k": i, "v": [i] * 5} for i in range(20000)]
        tensors = [torch.randn(100, 100) @ torch.randn(100, 100) for _ in range(50)]
        os._exit(0)
    os.waitpid(pid, 0)
print(huge_faults() - before)
"""


def test_forks_of_a_collapsed_heap_take_no_huge_pages_on_a_fault():
    """The heap is collapsed into 2 MiB pages once, shared by the forks; memory they touch later is faulted
    4 KiB at a time. Marking the heap MADV_HUGEPAGE, as the collapse once did, made such faults zero 2 MiB
    each (2 for every fork here; 183 in a run of 40 notebooks) for a few small objects."""
    done = subprocess.run([sys.executable, "-c", _FORKS], capture_output=True, text=True, timeout=120, check=True)
    assert int(done.stdout) < 3  # machine-wide: a little room for another process's
