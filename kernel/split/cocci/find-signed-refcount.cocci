// SPDX-License-Identifier: GPL-2.0-only
/// pinsplit kernel trial, a finder (applies no change): every place that
/// reads a page's refcount as a signed count of holders. Under the split
/// word's raw value, READ pins set the sign bit, so each of these would
/// misread a pinned page; page_ref_count() reporting holders keeps them
/// right. kernel/findings.py runs this over mm/, fs/ and io_uring/.

@signed_compare@
expression E, C;
position p;
@@
(
 page_ref_count@p(E) < C
|
 page_ref_count@p(E) <= C
|
 folio_ref_count@p(E) < C
|
 folio_ref_count@p(E) <= C
|
 page_count@p(E) < C
|
 page_count@p(E) <= C
|
 folio_ref_count@p(E) > C
|
 page_count@p(E) > C
|
 page_ref_count@p(E) > C
|
 folio_ref_count@p(E) != C
|
 page_count@p(E) != C
|
 folio_ref_count@p(E) == C
|
 page_count@p(E) == C
|
 page_ref_count@p(E) == C
)

@script:python@
p << signed_compare.p;
@@
print("signed_compare %s:%s" % (p[0].file, p[0].line))
