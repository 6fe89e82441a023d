// SPDX-License-Identifier: GPL-2.0-only
/// pinsplit kernel trial, step 7: gup_test's long-term pins are READ or R/W
/// by its USE_WRITE flag; it remembers which (tree.py's edit steps add the
/// variable and set it) and unpins by name. Inferred, its unpin took the R/W
/// field of a page that also held an io_uring R/W pin (docs/kernel.md).
// Target: mm/gup_test.c

@@
expression P, N;
@@
 pin_longterm_test_stop(void)
 {
 <...
- unpin_user_pages(P, N)
+ unpin_user_pages_kind(P, N, pin_longterm_test_kind)
 ...>
 }
