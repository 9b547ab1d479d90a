//! How a folder of images becomes a data set: the image flags.

use ae_data::folder::parse_image_size;
use ae_data::{Colour, FolderSpec, Patches};
use clap::Args;

use super::{Given, flag};

/// How the images of a folder (`--dataset DIR`) are read.
#[derive(Args, Clone, Debug, Default)]
pub struct ImageOverrides {
    /// Folders of images: resize every image to HEIGHTxWIDTH (or N for N×N), scaled
    /// to cover it and centre-cropped [default: every image must have one size].
    #[arg(long, value_name = "HxW", value_parser = parse_image_size)]
    pub image_size: Option<[usize; 2]>,
    /// Folders of images: grey (one plane, BT.601 luma) or rgb (three planes; grey
    /// images fill all three) [default: grey].
    #[arg(long, alias = "color", value_name = "grey|rgb")]
    pub colour: Option<Colour>,
    /// Folders of images: cut every image (after any --image-size) into SIZE×SIZE
    /// patches, side by side, or every STRIDE pixels; each patch is a sample.
    #[arg(long, value_name = "SIZE[:STRIDE]")]
    pub patches: Option<Patches>,
    /// Folders of images: leave out files that do not decode, listing them, instead of
    /// stopping at the first.
    #[arg(long)]
    pub skip_bad_images: bool,
}

impl ImageOverrides {
    /// The flags given, by name.
    pub fn given(&self) -> Vec<String> {
        let Self {
            image_size,
            colour,
            patches,
            skip_bad_images,
        } = self;
        given!(image_size, colour, patches, skip_bad_images)
    }

    /// `folder` with these flags applied.
    pub fn apply(&self, folder: &mut FolderSpec) {
        if self.image_size.is_some() {
            folder.image_size = self.image_size;
        }
        if let Some(colour) = self.colour {
            folder.colour = colour;
        }
        if self.patches.is_some() {
            folder.patches = self.patches;
        }
        folder.skip_bad |= self.skip_bad_images;
    }
}
