// SPDX-License-Identifier: GPL-2.0-only
/// pinsplit kernel trial, step 8: FUSE direct I/O dirties the user pages
/// exactly when it read from the file into them, and those are the pages it
/// pinned for write (an ITER_DEST iterator). Unpin by that kind: inferred,
/// a FUSE read pin's release took the R/W field of a page that also held an
/// io_uring R/W pin (docs/kernel.md).
// Target: fs/fuse/file.c

@@
identifier fn, dirty;
expression P;
type T;
@@
 T fn(..., bool dirty)
 {
 <...
- unpin_user_page(P)
+ unpin_user_page_kind(P, page_pin_kind_of_dirty(dirty))
 ...>
 }
