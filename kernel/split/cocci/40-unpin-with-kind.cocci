// SPDX-License-Identifier: GPL-2.0-only
/// pinsplit kernel trial, step 5: call sites that know which field their
/// pins took unpin it by name, so no unpin is inferred.
// Targets: io_uring/*.c (every io_uring pin is FOLL_WRITE | FOLL_LONGTERM,
// taken by io_pin_pages() or pin_user_pages_fast(..., FOLL_WRITE ...)),
// block/bio.c and block/blk.h (a bio's user pages are pinned FOLL_WRITE
// exactly when the bio reads from the device).

@io_uring depends on file in "io_uring"@
expression P, N;
@@
(
- unpin_user_pages(P, N)
+ unpin_user_pages_kind(P, N, PAGE_PIN_RW)
|
- unpin_user_page(P)
+ unpin_user_page_kind(P, PAGE_PIN_RW)
|
- unpin_user_folio(P, N)
+ unpin_user_folio_kind(P, N, PAGE_PIN_RW)
)

@bio_folio@
identifier fn, b;
expression F, N;
type T;
@@
 T fn(..., struct bio *b, ...)
 {
 <...
- unpin_user_folio(F, N)
+ unpin_user_folio_kind(F, N, page_pin_kind_of_bio(b))
 ...>
 }

@bio_page@
identifier fn, b;
expression P;
type T;
@@
 T fn(..., struct bio *b, ...)
 {
 <...
- unpin_user_page(P)
+ unpin_user_page_kind(P, page_pin_kind_of_bio(b))
 ...>
 }
