// SPDX-License-Identifier: GPL-2.0-only
/// pinsplit kernel trial, step 6: ext4's journalled dirtying only fears a
/// device writing into the folio behind its back, which a READ pin cannot
/// do. Ask whether it is pinned for write.
// Target: fs/ext4/inode.c

@@
identifier folio, mapping;
@@
 ext4_journalled_dirty_folio(struct address_space *mapping, struct folio *folio)
 {
 <...
- folio_maybe_dma_pinned(folio)
+ folio_maybe_dma_pinned_for_write(folio)
 ...>
 }
