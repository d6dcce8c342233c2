//! `pocket cp` (placeholder, being written).

use super::Ctx;
use crate::error::{Error, Result};

pub fn main(_argv: &[&[u8]], _ctx: &Ctx) -> Result<i32> {
    Err(Error::bad("cp", "", "not yet"))
}
