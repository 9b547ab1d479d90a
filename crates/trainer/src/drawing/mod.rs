//! The pictures: image grids ([`image`]), charts ([`plot`], and series against
//! their reconstructions in [`series_plot`]), and what is drawn from a model's code
//! space ([`maps`]: latent maps, manifolds, filters, loss curves).

pub mod image;
pub mod maps;
pub mod plot;
pub mod series_plot;
