// SPDX-License-Identifier: GPL-2.0-only
/// pinsplit kernel trial, step 4: folio_maybe_dma_pinned() is exact for
/// order-0 folios: any pin field non-zero, read from the raw word.
// Target: include/linux/mm.h

@@
identifier folio;
@@
 folio_maybe_dma_pinned(struct folio *folio)
 {
 ...
- return ((unsigned int)folio_ref_count(folio)) >= GUP_PIN_COUNTING_BIAS;
+ return page_pin_split_pins(atomic_read(&folio->_refcount)) != 0;
 }
