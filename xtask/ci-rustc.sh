#!/usr/bin/env bash
# The rustc wrapper of CI's build (`RUSTC_WRAPPER`, set by `cargo xtask ci-env`).
#
# CI compiles every crate that Cargo.toml does not keep at opt-level 3 at opt-level 1.
# This wrapper lowers that to 0 for the crates the tests only pass through: the GPU
# compiler stack (cubecl's IR, optimiser and kernels, wgpu, naga), the GPU backends'
# glue and the remote backend's network stack. They are a third of the build's
# compile time at opt-level 1, and at 0 they cost the tests ten seconds (the wgpu
# test on a software Vulkan driver, whose kernels cubecl compiles on the host). The
# crates every CPU tensor operation goes through (burn's dispatch, autodiff, tensor
# and nn crates, the CPU backends: at 0 they slow every training step) and the
# workspace's own stay as cargo asks. Cargo fingerprints the wrapper's path, not
# its text: after changing this list, build in a cleared target folder.
#
#   RUSTC_WRAPPER=xtask/ci-rustc.sh cargo build …   (cargo runs it as: ci-rustc.sh RUSTC ARGS…)
set -euo pipefail

name=""
prev=""
for arg in "$@"; do
  if [ "$prev" = "--crate-name" ]; then
    name=$arg
    break
  fi
  prev=$arg
done

case "$name" in
  cubek_* | cubecl_ir | cubecl_opt | cubecl_std | cubecl_core | cubecl_wgpu | cubecl_spirv | \
    cubecl_cpp | cubecl_runtime | cubecl_server | \
    burn_cubecl | burn_cubecl_fusion | burn_fusion | burn_wgpu | burn_remote | \
    burn_communication | burn_router | \
    wgpu | wgpu_core | wgpu_hal | wgpu_types | naga | ash | rspirv | spirv | pliron* | \
    iroh* | netlink* | noq* | rustls* | ring | reqwest | igd_next | portmapper | \
    nvml_wrapper | hickory* | tokio_tungstenite | tungstenite)
    args=()
    for arg in "$@"; do
      case "$arg" in
        opt-level=1) arg=opt-level=0 ;;
        -Copt-level=1) arg=-Copt-level=0 ;;
      esac
      args+=("$arg")
    done
    exec "${args[@]}"
    ;;
  *)
    exec "$@"
    ;;
esac
