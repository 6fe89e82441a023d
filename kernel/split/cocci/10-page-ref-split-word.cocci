// SPDX-License-Identifier: GPL-2.0-only
/// pinsplit kernel trial, step 2: the page refcount accessors go through the
/// split word's helpers (include/linux/page_pin_split.h). Every add or sub of
/// ordinary references checks for saturation and for a put without a
/// reference; page_ref_count() reports holders, so it is never negative.
/// Freeze, unfreeze and set keep writing the raw word.
// Target: include/linux/page_ref.h

@include_helper@
@@
 #include <linux/atomic.h>
+#include <linux/page_pin_split.h>

@holders@
identifier page;
@@
 page_ref_count(const struct page *page)
 {
- return atomic_read(&page->_refcount);
+ return page_pin_split_holders(atomic_read(&page->_refcount));
 }

@ordinary@
expression P, N, U;
@@
(
- atomic_add(N, &P->_refcount)
+ page_pin_split_add(&P->_refcount, N)
|
- atomic_inc(&P->_refcount)
+ page_pin_split_add(&P->_refcount, 1)
|
- atomic_sub(N, &P->_refcount)
+ page_pin_split_sub(&P->_refcount, N)
|
- atomic_dec(&P->_refcount)
+ page_pin_split_sub(&P->_refcount, 1)
|
- atomic_sub_return(N, &P->_refcount)
+ page_pin_split_sub_return(&P->_refcount, N)
|
- atomic_dec_return(&P->_refcount)
+ page_pin_split_sub_return(&P->_refcount, 1)
|
- atomic_inc_return(&P->_refcount)
+ page_pin_split_add_return(&P->_refcount, 1)
|
- atomic_sub_and_test(N, &P->_refcount)
+ page_pin_split_sub_and_test(&P->_refcount, N)
|
- atomic_dec_and_test(&P->_refcount)
+ page_pin_split_sub_and_test(&P->_refcount, 1)
|
- atomic_add_unless(&P->_refcount, N, U)
+ page_pin_split_add_unless(&P->_refcount, N, U)
)
