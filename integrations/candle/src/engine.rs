//! The machinery both optimizers share: the variables grouped by the precision they are computed
//! in, their host-side state, and an all-or-nothing step (every new value is computed on copies
//! before any variable or state is written).

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use mlkern::Par;

use crate::error::{Result, kernel as kernel_err};
use crate::host::{self, DevicePolicy, HostFloat};
use crate::params::{Route, route};

/// One parameter's update rule, for the matrix and the fallback routes.
pub(crate) trait Kernel: Sync {
    /// The state buffers of a new parameter with weights `w`, and the scratch length its step
    /// needs.
    fn init<T: HostFloat>(
        &self,
        route: Route,
        dims: &[usize],
        w: &[T],
    ) -> mlkern::Result<(Vec<Vec<T>>, usize)>;

    /// One step `t` on copies: `w` and `state` hold the current values on entry and the new ones
    /// on return (the caller commits them only when every parameter succeeded).
    #[allow(clippy::too_many_arguments)]
    fn update<T: HostFloat>(
        &self,
        route: Route,
        dims: &[usize],
        w: &mut [T],
        state: &mut [Vec<T>],
        g: &[T],
        t: u64,
        scratch: &mut [T],
        par: Par,
    ) -> mlkern::Result<()>;
}

/// A parameter computed in precision `T`.
pub(crate) struct Entry<T> {
    pub name: String,
    pub var: Var,
    pub route: Route,
    pub state: Vec<Vec<T>>,
    scratch: Vec<T>,
}

/// New weights and state of one parameter, waiting to be committed.
struct Pending<T> {
    index: usize,
    w: Vec<T>,
    state: Vec<Vec<T>>,
}

/// The parameters of an optimizer and the step counter.
pub(crate) struct Engine {
    pub f32s: Vec<Entry<f32>>,
    pub f64s: Vec<Entry<f64>>,
    pub policy: DevicePolicy,
    /// The next step's number (1 before the first step).
    pub t: u64,
}

impl Engine {
    /// Routes and initializes `named` (integer variables are skipped, as candle's optimizers do).
    pub fn new<K: Kernel>(
        named: Vec<(String, Var)>,
        exclude: &[String],
        kernel: &K,
        policy: DevicePolicy,
    ) -> Result<Self> {
        let mut engine = Engine {
            f32s: Vec::new(),
            f64s: Vec::new(),
            policy,
            t: 1,
        };
        for (name, var) in named {
            let route = route(&name, var.dims(), exclude);
            match host::precision(var.dtype()) {
                Some(candle_core::DType::F64) => {
                    engine.f64s.push(entry(name, var, route, kernel, policy)?);
                }
                Some(_) => engine.f32s.push(entry(name, var, route, kernel, policy)?),
                None => {}
            }
        }
        Ok(engine)
    }

    /// Every parameter's name and route, sorted by name.
    pub fn routes(&self) -> Vec<(String, Route)> {
        let mut r: Vec<(String, Route)> = (self.f32s.iter().map(|e| (e.name.clone(), e.route)))
            .chain(self.f64s.iter().map(|e| (e.name.clone(), e.route)))
            .collect();
        r.sort_by(|a, b| a.0.cmp(&b.0));
        r
    }

    /// One all-or-nothing step: on an error no variable, no state and not the step counter
    /// changes.
    pub fn step<K: Kernel>(&mut self, kernel: &K, grads: &GradStore, par: Par) -> Result<()> {
        let (t, policy) = (self.t, self.policy);
        let p32 = plan(&mut self.f32s, kernel, grads, t, policy, par)?;
        let p64 = plan(&mut self.f64s, kernel, grads, t, policy, par)?;
        commit(&mut self.f32s, p32)?;
        commit(&mut self.f64s, p64)?;
        self.t = self.t.saturating_add(1);
        Ok(())
    }

    /// State buffer `buf` of every parameter as a tensor of its variable's shape, dtype and
    /// device, sorted by name.
    pub fn state_tensors(&self, buf: usize) -> Result<Vec<(String, Tensor)>> {
        let mut out = tensors(&self.f32s, buf)?;
        out.extend(tensors(&self.f64s, buf)?);
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

fn entry<T: HostFloat, K: Kernel>(
    name: String,
    var: Var,
    route: Route,
    kernel: &K,
    policy: DevicePolicy,
) -> Result<Entry<T>> {
    let w = host::read_finite::<T>(&var, &name, "initial weights", policy)?;
    let (state, scratch_len) = kernel
        .init(route, var.dims(), &w)
        .map_err(|e| kernel_err(&name, e))?;
    Ok(Entry {
        name,
        var,
        route,
        state,
        scratch: vec![T::zero(); scratch_len],
    })
}

/// One parameter's step in flight: its inputs, then its new values.
struct Job<'e, T> {
    entry: &'e mut Entry<T>,
    pending: Pending<T>,
    g: Vec<T>,
}

/// Reads every gradient and weight (checking them all before any work), then computes the new
/// values. Same-shaped matrices form a batch: when `par` allows several threads and the
/// matrices are small (`k²·N ≤ 2²⁵`, as `orthogonalize_batch_into` decides), the batch is
/// spread over the threads, one matrix per thread at a time; otherwise the matrices run one
/// after the other with `par` inside each. The results are the same bits either way.
fn plan<T: HostFloat, K: Kernel>(
    entries: &mut [Entry<T>],
    kernel: &K,
    grads: &GradStore,
    t: u64,
    policy: DevicePolicy,
    par: Par,
) -> Result<Vec<Pending<T>>> {
    let mut jobs = Vec::new();
    for (index, entry) in entries.iter_mut().enumerate() {
        let Some(grad) = grads.get(&entry.var) else {
            continue;
        };
        let g = host::read_finite::<T>(grad, &entry.name, "gradient", policy)?;
        let w = host::read_finite::<T>(&entry.var, &entry.name, "weights", policy)?;
        let state = entry.state.clone();
        let pending = Pending { index, w, state };
        jobs.push(Job { entry, pending, g });
    }
    // Batches of same-shaped matrices, in first-appearance order; the fallback runs alone.
    let mut batches: Vec<(Route, Vec<Job<'_, T>>)> = Vec::new();
    for job in jobs {
        let route = job.entry.route;
        match batches
            .iter_mut()
            .find(|(r, _)| *r == route && route != Route::Fallback)
        {
            Some((_, batch)) => batch.push(job),
            None => batches.push((route, vec![job])),
        }
    }
    let threads = par.thread_count();
    let mut pending = Vec::new();
    for (route, mut batch) in batches {
        let small = match route {
            Route::Matrix { rows, cols } => {
                let (k, n) = (rows.min(cols), rows.max(cols));
                k.saturating_mul(k).saturating_mul(n) <= SMALL
            }
            Route::Fallback => false,
        };
        if threads > 1 && batch.len() > 1 && small {
            let lanes = threads.min(batch.len());
            let per = batch.len().div_ceil(lanes);
            let results: Vec<Result<()>> = std::thread::scope(|scope| {
                let handles: Vec<_> = batch
                    .chunks_mut(per)
                    .map(|chunk| {
                        scope.spawn(move || {
                            chunk
                                .iter_mut()
                                .try_for_each(|job| run(kernel, job, t, Par::Seq))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(crate::error::msg(
                                "mlkern-candle: a step thread panicked".into(),
                            ))
                        })
                    })
                    .collect()
            });
            results.into_iter().collect::<Result<Vec<()>>>()?;
        } else {
            for job in &mut batch {
                run(kernel, job, t, par)?;
            }
        }
        pending.extend(batch.into_iter().map(|job| job.pending));
    }
    pending.sort_by_key(|p| p.index);
    Ok(pending)
}

/// `orthogonalize_batch_into`'s threshold for spreading a batch over threads.
const SMALL: usize = 1 << 25;

fn run<T: HostFloat, K: Kernel>(kernel: &K, job: &mut Job<'_, T>, t: u64, par: Par) -> Result<()> {
    let e = &mut *job.entry;
    let p = &mut job.pending;
    kernel
        .update(
            e.route,
            e.var.dims(),
            &mut p.w,
            &mut p.state,
            &job.g,
            t,
            &mut e.scratch,
            par,
        )
        .map_err(|err| kernel_err(&e.name, err))
}

fn commit<T: HostFloat>(entries: &mut [Entry<T>], pending: Vec<Pending<T>>) -> Result<()> {
    for p in pending {
        let e = &mut entries[p.index];
        host::write(&e.var, p.w)?;
        e.state = p.state;
    }
    Ok(())
}

fn tensors<T: HostFloat>(entries: &[Entry<T>], buf: usize) -> Result<Vec<(String, Tensor)>> {
    entries
        .iter()
        .map(|e| {
            let t = host::tensor(
                e.state[buf].clone(),
                e.var.shape(),
                e.var.dtype(),
                e.var.device(),
            )?;
            Ok((e.name.clone(), t))
        })
        .collect()
}

/// The constructors, accessors and [`Optimizer`](candle_nn::Optimizer) implementation both
/// optimizers share, for a struct with fields `engine: Engine`, `params: $params` and
/// `base_lr: (f64, f64)` whose configuration keeps the fallback's parameters in `$fallback`.
macro_rules! optimizer_common {
    ($name:ident, $params:ty, $fallback:ident) => {
        impl $name {
            /// An optimizer for named variables (routing by name uses these names).
            ///
            /// # Errors
            /// A variable on another device (with [`DevicePolicy::CpuOnly`]) or with non-finite
            /// values, a bad configuration or a scratch that cannot be sized, each naming the
            /// variable.
            pub fn new_named(vars: Vec<(String, Var)>, params: $params) -> Result<Self> {
                let engine = Engine::new(vars, &params.exclude, &params, params.device)?;
                let base_lr = (params.lr, params.$fallback.lr);
                Ok($name {
                    engine,
                    params,
                    base_lr,
                })
            }

            /// An optimizer for every variable of `varmap`, routed by name.
            ///
            /// # Errors
            /// As [`new_named`](Self::new_named).
            pub fn from_varmap(varmap: &VarMap, params: $params) -> Result<Self> {
                Self::new_named(named_vars(varmap), params)
            }

            /// Every parameter's name and route, sorted by name.
            pub fn routes(&self) -> Vec<(String, Route)> {
                self.engine.routes()
            }

            /// The configuration.
            pub fn params(&self) -> &$params {
                &self.params
            }
        }

        impl Optimizer for $name {
            type Config = $params;

            fn new(vars: Vec<Var>, params: $params) -> Result<Self> {
                Self::new_named(numbered(vars), params)
            }

            fn step(&mut self, grads: &GradStore) -> Result<()> {
                self.engine.step(&self.params, grads, self.params.par)
            }

            fn learning_rate(&self) -> f64 {
                self.params.lr
            }

            fn set_learning_rate(&mut self, lr: f64) {
                self.params.lr = lr;
                self.params.$fallback.lr = crate::params::scaled(self.base_lr, lr);
            }
        }
    };
}
pub(crate) use optimizer_common;
