// SPDX-License-Identifier: GPL-2.0-only
/// pinsplit kernel trial, step 3: FOLL_PIN on an order-0 folio adds to the
/// READ or the R/W field (mm/page_pin_split.c) instead of adding
/// GUP_PIN_COUNTING_BIAS ordinary references. Large folios keep _pincount:
/// each hook returns false for them and the original body runs.
// Target: mm/gup.c

@put_hook@
identifier folio, refs, flags;
@@
 gup_put_folio(struct folio *folio, int refs, unsigned int flags)
 {
+	if (page_pin_split_put(folio, refs, flags))
+		return;
 ...
 }

@grab_hook@
identifier folio, refs, flags;
@@
 try_grab_folio(struct folio *folio, int refs, unsigned int flags)
 {
+	int split_ret;
+
+	if (page_pin_split_try_grab(folio, refs, flags, &split_ret))
+		return split_ret;
 ...
 }

@add_pin_hook@
identifier folio;
@@
 folio_add_pin(struct folio *folio)
 {
+	if (page_pin_split_add_pin(folio))
+		return;
 ...
 }

// The unpin entry points do not know the pin's kind: say so.
@unknown_kind@
expression F, R;
@@
 gup_put_folio(F, R,
- FOLL_PIN
+ FOLL_PIN | PAGE_PIN_SPLIT_FOLL_UNKNOWN
 )

// GUP-fast already holds @refs ordinary references: trade them for pins in
// one compare-exchange, or give them back when the field is full.
@fast_trade@
identifier folio, refs;
@@
- folio_ref_add(folio, refs * (GUP_PIN_COUNTING_BIAS - 1));
+ if (!page_pin_split_trade(folio, refs, flags)) {
+	folio_put_refs(folio, refs);
+	return NULL;
+ }

// A pin weighs one holder in page_ref_count() now.
@pin_weight@
expression F;
@@
- folio_has_pincount(F) ? 1 : GUP_PIN_COUNTING_BIAS
+ 1
