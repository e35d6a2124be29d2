//! The backend of builds without the `cublas` feature: nothing can be opened, so every type is
//! uninhabited and every entry point but `open` is unreachable.

use alloc::vec::Vec;
use core::marker::PhantomData;

use super::{DeviceInfo, GpuScalar};
use crate::ortho::{NsConfig, NsReport};
use crate::{Error, Result};

/// Storage bound of [`GpuScalar`] (nothing without a backend).
pub trait Storage {}
impl Storage for f32 {}
impl Storage for half::bf16 {}

#[derive(Debug)]
pub(crate) enum Never {}

#[derive(Debug)]
pub(crate) struct Context(Never);

#[derive(Debug)]
pub(crate) struct Buffer<T>(Never, PhantomData<T>);

#[derive(Debug)]
pub(crate) struct Scratch<T>(Never, PhantomData<T>);

pub(crate) fn open(_ordinal: usize) -> Result<Context> {
    Err(Error::BackendUnavailable {
        backend: "cublas",
        reason: "mlkern was built without the `cublas` feature",
    })
}

pub(crate) fn info(c: &Context) -> &DeviceInfo {
    match c.0 {}
}

pub(crate) fn buffer_len<T>(b: &Buffer<T>) -> usize {
    match b.0 {}
}

pub(crate) fn set_symmetric<T>(s: &mut Scratch<T>, _on: bool) {
    match s.0 {}
}

pub(crate) fn scratch_bytes<T>(s: &Scratch<T>) -> usize {
    match s.0 {}
}

pub(crate) fn upload<T: GpuScalar>(c: &Context, _host: &[T]) -> Result<Buffer<T>> {
    match c.0 {}
}

pub(crate) fn zeros<T: GpuScalar>(c: &Context, _len: usize) -> Result<Buffer<T>> {
    match c.0 {}
}

pub(crate) fn download<T: GpuScalar>(c: &Context, _b: &Buffer<T>, _host: &mut [T]) -> Result<()> {
    match c.0 {}
}

pub(crate) fn synchronize(c: &Context) -> Result<()> {
    match c.0 {}
}

pub(crate) fn scratch<T: GpuScalar>(c: &Context) -> Scratch<T> {
    match c.0 {}
}

pub(crate) fn orthogonalize<T: GpuScalar>(
    c: &Context,
    _x: &mut Buffer<T>,
    _shape: (usize, usize, usize),
    _cfg: &NsConfig<'_>,
    _ws: &mut Scratch<T>,
) -> Result<Vec<NsReport>> {
    match c.0 {}
}

pub(crate) fn gram_singular_values(
    c: &Context,
    _h: &Buffer<f32>,
    _rows: usize,
    _cols: usize,
    _center: bool,
) -> Result<Vec<f64>> {
    match c.0 {}
}
