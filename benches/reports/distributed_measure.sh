#!/usr/bin/env bash
# The measured points of benches/reports/distributed.md: NS5 (Keller Jordan) Muon steps on one
# 1024×8192 f32 matrix, 1 rank × 2 threads against 2 ranks × 1 thread, standard and Gram,
# with the time inside collectives (--sync: exchanges alone; without: including the wait for
# the slower rank). Needs MPICH (apt-get install mpich libmpich-dev libclang-dev).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --features mpi,rayon --example mpi_muon
bin=target/release/examples/mpi_muon
echo "host: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), avx512f: $(lscpu | grep -o 'avx512f' | head -1 || true)"
for algo in gram standard; do
  mpiexec -n 1 "$bin" --k 1024 --n 8192 --algo "$algo" --threads 2 --steps 8 | tail -1
  mpiexec -n 2 "$bin" --k 1024 --n 8192 --algo "$algo" --threads 1 --steps 8 | tail -1
  mpiexec -n 2 "$bin" --k 1024 --n 8192 --algo "$algo" --threads 1 --steps 8 --sync | tail -1 | sed 's/$/ [--sync]/'
done
