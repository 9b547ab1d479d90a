//! The one place that chooses the device.

use std::fmt;

use anyhow::{Result, bail};
use burn::prelude::Device;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// A compute backend, as named by `--backend` and by `BURN_DEVICE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// A GPU when wgpu finds a hardware adapter, else the CPU.
    Auto,
    /// wgpu: Vulkan, Metal or DX12, whichever the platform has.
    Wgpu,
    /// wgpu pinned to Vulkan.
    Vulkan,
    /// wgpu pinned to Metal.
    Metal,
    /// NVIDIA CUDA.
    Cuda,
    /// Burn's pure-Rust CPU backend.
    Flex,
    /// The ndarray CPU backend.
    Ndarray,
}

impl Backend {
    /// Whether the backend computes on the CPU.
    pub fn is_cpu(self) -> bool {
        matches!(self, Self::Flex | Self::Ndarray)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        f.write_str(&name)
    }
}

/// How several devices share a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Parallelism {
    /// burn's multi-device strategy: each device computes the gradients of its share
    /// of the batches; they are summed on the first device, which holds the optimiser.
    #[default]
    Multi,
    /// burn's distributed data parallel: a replica of the model per device, gradients
    /// averaged by an all-reduce after every step. Each node of a multi-machine run
    /// is launched by the user.
    Ddp,
}

/// A chosen device and a sentence saying what it is and why.
pub struct Selected {
    /// The device (without autodiff; training adds it).
    pub device: Device,
    /// The backend that was chosen.
    pub backend: Backend,
    /// A one-line description for the user.
    pub description: String,
}

/// Chooses the device for `backend`; `Auto` prefers a hardware GPU, then a CPU backend.
///
/// Asking for a backend that is not compiled in, or a GPU that is not there, is an
/// error that names the remedy.
pub fn select(backend: Backend) -> Result<Selected> {
    match backend {
        Backend::Auto => auto(),
        Backend::Wgpu | Backend::Vulkan | Backend::Metal => wgpu_device(backend),
        Backend::Cuda => cuda(),
        Backend::Flex | Backend::Ndarray => cpu(backend),
    }
}

fn auto() -> Result<Selected> {
    // flex (im2col + gemm convolutions) is the faster CPU backend: on 2 cores, one
    // epoch of the conv autoencoder takes 43 s on flex and ≈ 50× longer on ndarray.
    let cpu_backend = if cfg!(feature = "flex") {
        Backend::Flex
    } else if cfg!(feature = "ndarray") {
        Backend::Ndarray
    } else {
        return select_gpu_only();
    };
    #[cfg(feature = "cuda")]
    if let Ok(selected) = cuda() {
        return Ok(selected);
    }
    let why = match gpu_adapter() {
        Ok(Some(adapter)) if adapter.hardware => {
            let mut selected = wgpu_device(Backend::Wgpu)?;
            selected.description = format!("{} (auto: hardware GPU found)", selected.description);
            return Ok(selected);
        }
        Ok(Some(adapter)) => format!(
            "wgpu found only the software adapter '{}'; pass --backend wgpu to use it anyway",
            adapter.name
        ),
        Ok(None) => "wgpu found no GPU adapter".to_string(),
        Err(reason) => reason,
    };
    let mut selected = cpu(cpu_backend)?;
    selected.description = format!("{} (auto: {why})", selected.description);
    Ok(selected)
}

fn select_gpu_only() -> Result<Selected> {
    #[cfg(feature = "cuda")]
    return cuda();
    #[allow(unreachable_code)]
    wgpu_device(Backend::Wgpu)
}

/// What the wgpu probe learnt about the best adapter.
struct Adapter {
    name: String,
    hardware: bool,
}

/// The best adapter wgpu can see, or why it cannot look.
#[cfg(feature = "wgpu")]
fn gpu_adapter() -> std::result::Result<Option<Adapter>, String> {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    let instance = wgpu::Instance::new(
        wgpu::InstanceDescriptor {
            backends: wgpu::Backends::PRIMARY,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        }
        .with_env(),
    );
    let mut future = pin!(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
    let mut cx = Context::from_waker(Waker::noop());
    // Native adapter enumeration completes on the first poll.
    let adapters = match future.as_mut().poll(&mut cx) {
        Poll::Ready(adapters) => adapters,
        Poll::Pending => return Err("wgpu adapter enumeration did not complete".into()),
    };
    let rank = |t: wgpu::DeviceType| match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    Ok(adapters
        .iter()
        .map(|a| a.get_info())
        .min_by_key(|info| rank(info.device_type))
        .map(|info| Adapter {
            hardware: rank(info.device_type) <= 2,
            name: format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend),
        }))
}

#[cfg(not(feature = "wgpu"))]
fn gpu_adapter() -> std::result::Result<Option<Adapter>, String> {
    Err("built without the `wgpu` feature".into())
}

fn wgpu_device(backend: Backend) -> Result<Selected> {
    #[cfg(feature = "wgpu")]
    {
        let adapter = match gpu_adapter() {
            Ok(Some(adapter)) => adapter,
            Ok(None) => bail!(
                "--backend {backend}: wgpu found no GPU adapter (Vulkan, Metal or DX12). \
                 Install a GPU driver (on Debian or Ubuntu without a GPU, `apt-get install \
                 mesa-vulkan-drivers` gives a software Vulkan device), or choose a CPU backend \
                 with --backend ndarray"
            ),
            Err(reason) => bail!("--backend {backend}: {reason}"),
        };
        let device = match backend {
            #[cfg(feature = "vulkan")]
            Backend::Vulkan => Device::vulkan(Default::default()),
            #[cfg(feature = "metal")]
            Backend::Metal => Device::metal(Default::default()),
            Backend::Wgpu => Device::wgpu(Default::default()),
            other => bail!(
                "--backend {other} needs the `{other}` feature: rebuild with \
                 `cargo run --release -p trainer --features {other} -- …`"
            ),
        };
        Ok(Selected {
            device,
            backend,
            description: format!("{backend} on {}", adapter.name),
        })
    }
    #[cfg(not(feature = "wgpu"))]
    bail!(
        "--backend {backend} needs the `{backend}` feature, which this build lacks: rebuild with \
         `cargo run --release -p trainer --features {backend} -- …`"
    )
}

fn cuda() -> Result<Selected> {
    #[cfg(feature = "cuda")]
    {
        return Ok(Selected {
            device: Device::cuda(Default::default()),
            backend: Backend::Cuda,
            description: "cuda device 0".into(),
        });
    }
    #[allow(unreachable_code)]
    {
        bail!(
            "--backend cuda needs the `cuda` feature (and the CUDA toolkit): rebuild with \
             `cargo run --release -p trainer --features cuda -- …`"
        )
    }
}

/// `n` devices of the selected backend for data-parallel training: the first `n`
/// devices burn enumerates for a GPU backend, or `n` workers sharing the one CPU
/// device of a CPU backend (the multi-device path, without a speed-up on a CPU that
/// each worker already uses whole).
pub fn devices(selected: &Selected, n: usize) -> Result<Vec<Device>> {
    if n == 0 {
        bail!("--devices 0: expected at least one device");
    }
    if n == 1 {
        return Ok(vec![selected.device.clone()]);
    }
    let listed: Vec<Device> = match selected.backend {
        Backend::Flex | Backend::Ndarray => return Ok(vec![selected.device.clone(); n]),
        #[cfg(feature = "wgpu")]
        Backend::Wgpu => Device::enumerate(burn::tensor::DeviceType::Wgpu).to_vec(),
        #[cfg(feature = "vulkan")]
        Backend::Vulkan => Device::enumerate(burn::tensor::DeviceType::Vulkan).to_vec(),
        #[cfg(feature = "metal")]
        Backend::Metal => Device::enumerate(burn::tensor::DeviceType::Metal).to_vec(),
        #[cfg(feature = "cuda")]
        Backend::Cuda => Device::enumerate(burn::tensor::DeviceType::Cuda).to_vec(),
        other => bail!("--devices {n}: not available on backend {other}"),
    };
    if listed.len() < n {
        bail!(
            "--devices {n}: backend {} has {} device(s) here",
            selected.backend,
            listed.len()
        );
    }
    Ok(listed.into_iter().take(n).collect())
}

// `Device::ndarray()` is deprecated upstream in favour of `flex`; it stays selectable
// because it is the fastest CPU backend on the machines measured so far.
#[allow(deprecated)]
fn cpu(backend: Backend) -> Result<Selected> {
    let device = match backend {
        #[cfg(feature = "ndarray")]
        Backend::Ndarray => Device::ndarray(),
        #[cfg(feature = "flex")]
        Backend::Flex => Device::flex(),
        other => bail!(
            "--backend {other} needs the `{other}` feature, which this build lacks: rebuild with \
             `cargo run --release -p trainer --features {other} -- …`"
        ),
    };
    Ok(Selected {
        device,
        backend,
        description: format!("{backend} (CPU)"),
    })
}

/// The devices a training run uses: `n` of `backend` (see [`devices`]), checked
/// against `parallelism`, and one line saying what they are.
pub fn training_devices(
    backend: Backend,
    n: usize,
    parallelism: Parallelism,
) -> Result<(Vec<Device>, String)> {
    let selected = select(backend)?;
    let devices = devices(&selected, n)?;
    if parallelism == Parallelism::Ddp && devices.len() > 1 {
        check_ddp(selected.backend)?;
    }
    let mut line = format!("device: {}", selected.description);
    if devices.len() > 1 {
        line.push_str(&format!(
            "\ntraining data-parallel on {} devices",
            devices.len()
        ));
    }
    Ok((devices, line))
}

/// burn's collective operations, which `ddp` needs, run on the GPU backends only.
fn check_ddp(backend: Backend) -> Result<()> {
    if matches!(backend, Backend::Flex | Backend::Ndarray) {
        bail!(
            "--parallelism ddp: burn's collective operations run on GPU backends (cuda, \
             wgpu, vulkan, metal), not on {backend}; use --parallelism multi on a CPU"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddp_on_a_cpu_backend_is_refused_in_one_clean_sentence() {
        let msg = check_ddp(Backend::Flex).expect_err("cpu").to_string();
        assert!(
            msg.contains("not on flex; use --parallelism multi"),
            "{msg}"
        );
        assert!(!msg.contains("  "), "a run of spaces: {msg:?}");
        assert!(check_ddp(Backend::Wgpu).is_ok());
        let err = devices(&cpu_selected(), 0)
            .expect_err("0 devices")
            .to_string();
        assert!(err.contains("--devices 0"), "{err}");
    }

    #[test]
    fn a_cpu_backend_lends_n_workers_of_its_one_device() {
        let two = devices(&cpu_selected(), 2).expect("two workers");
        assert_eq!(two.len(), 2);
        assert_eq!(two[0], two[1]);
    }

    fn cpu_selected() -> Selected {
        let backend = if cfg!(feature = "flex") {
            Backend::Flex
        } else {
            Backend::Ndarray
        };
        cpu(backend).expect("a CPU backend is compiled in")
    }
}
