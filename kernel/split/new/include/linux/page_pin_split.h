/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The split page refcount, written for pinsplit's kernel trial.
 *
 * page->_refcount of an order-0 folio is three fields (seed layout 4/4/24):
 *
 *   31        28 27        24 23 22 21                        0
 *  +------------+------------+-----+---------------------------+
 *  | READ pins  | R/W pins   | sat |  ordinary references      |
 *  +------------+------------+-----+---------------------------+
 *
 * READ and R/W fields count FOLL_PIN pins exactly, chosen by FOLL_WRITE. A
 * pin never writes a full field: it is a compare-exchange that answers
 * -EAGAIN and changes nothing when the field has no room, so pins never carry
 * into a neighbour. A pin does not also hold an ordinary reference: the folio
 * is freed when the whole word reaches zero, whichever field drops last.
 *
 * The ordinary field counts get_page()/folio_get() references. Its top two
 * bits are headroom, as in refcount_t: values from ORD_LIMIT up are
 * saturated. An increment that reaches ORD_LIMIT pulls the field to
 * ORD_SATURATED, the middle of the saturated half, and it stays there: the
 * folio is leaked, never freed early, and never overflows into a pin field.
 * A decrement of an empty ordinary field (a put without a reference) is
 * undone and warned about, so it cannot borrow from the R/W field.
 *
 * page_ref_count() reports holders: ordinary references plus pins, each pin
 * weighing one. It is never negative, so code comparing it with an expected
 * number of references keeps working, and GUP_PIN_COUNTING_BIAS is no longer
 * part of any comparison. Only readers of the raw word see the fields.
 *
 * Memory ordering is that of the operations replaced: a plain add or sub is
 * relaxed, every operation that returns a value is fully ordered, pins and
 * unpins are fully ordered compare-exchanges.
 *
 * Unpins must name the field. The unpin API does not say whether a pin was R
 * or R/W, so unpin_*_kind() carry it; the old entry points pass
 * PAGE_PIN_UNKNOWN and the field is inferred: the only non-empty one, or R/W
 * when both hold pins (counted as ambiguous in debugfs page_pin_split/stats).
 */
#ifndef _LINUX_PAGE_PIN_SPLIT_H
#define _LINUX_PAGE_PIN_SPLIT_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/types.h>

#define PAGE_PIN_SPLIT_READ_BITS CONFIG_PAGE_PIN_SPLIT_READ_BITS
#define PAGE_PIN_SPLIT_RW_BITS CONFIG_PAGE_PIN_SPLIT_RW_BITS
#define PAGE_PIN_SPLIT_ORD_BITS \
	(32 - PAGE_PIN_SPLIT_READ_BITS - PAGE_PIN_SPLIT_RW_BITS)
#define PAGE_PIN_SPLIT_RW_SHIFT PAGE_PIN_SPLIT_ORD_BITS
#define PAGE_PIN_SPLIT_READ_SHIFT \
	(PAGE_PIN_SPLIT_ORD_BITS + PAGE_PIN_SPLIT_RW_BITS)
#define PAGE_PIN_SPLIT_ORD_MASK ((1U << PAGE_PIN_SPLIT_ORD_BITS) - 1)
#define PAGE_PIN_SPLIT_READ_MAX ((1U << PAGE_PIN_SPLIT_READ_BITS) - 1)
#define PAGE_PIN_SPLIT_RW_MAX ((1U << PAGE_PIN_SPLIT_RW_BITS) - 1)
#define PAGE_PIN_SPLIT_ORD_LIMIT (1U << (PAGE_PIN_SPLIT_ORD_BITS - 2))
#define PAGE_PIN_SPLIT_ORD_SATURATED (3U << (PAGE_PIN_SPLIT_ORD_BITS - 2))

/*
 * An internal GUP flag beside mm/internal.h's: the unpin entry point does not
 * know the pin's kind. mm/page_pin_split.c checks it collides with no FOLL_*.
 */
#define PAGE_PIN_SPLIT_FOLL_UNKNOWN (1U << 30)

enum page_pin_kind {
	PAGE_PIN_READ,
	PAGE_PIN_RW,
	PAGE_PIN_UNKNOWN,
};

struct folio;
struct page;

/*
 * A bio's user pages were pinned for write exactly when the bio reads from
 * its device (ITER_DEST), so the bio's op names the field to unpin.
 */
#define page_pin_kind_of_bio(bio) \
	(op_is_write(bio_op(bio)) ? PAGE_PIN_READ : PAGE_PIN_RW)

/*
 * A caller that dirties the pages it releases wrote into them, so they were
 * pinned for write; the others were pinned to be read.
 */
#define page_pin_kind_of_dirty(dirty) ((dirty) ? PAGE_PIN_RW : PAGE_PIN_READ)

static __always_inline unsigned int page_pin_split_ordinary(unsigned int word)
{
	return word & PAGE_PIN_SPLIT_ORD_MASK;
}

static __always_inline unsigned int page_pin_split_rw(unsigned int word)
{
	return (word >> PAGE_PIN_SPLIT_RW_SHIFT) & PAGE_PIN_SPLIT_RW_MAX;
}

static __always_inline unsigned int page_pin_split_read(unsigned int word)
{
	return word >> PAGE_PIN_SPLIT_READ_SHIFT;
}

static __always_inline unsigned int page_pin_split_pins(unsigned int word)
{
	return page_pin_split_read(word) + page_pin_split_rw(word);
}

/* What page_ref_count() reports: every holder once, never negative. */
static __always_inline int page_pin_split_holders(int word)
{
	return page_pin_split_ordinary(word) + page_pin_split_pins(word);
}

void page_pin_split_saturate(atomic_t *v);
bool page_pin_split_sub_slow(atomic_t *v, unsigned int old, int nr);

/* Slow paths run when the value an RMW returned left the counting zone. */
static __always_inline bool page_pin_split_add_leaves(unsigned int old, int nr)
{
	return unlikely(page_pin_split_ordinary(old) + nr >=
			PAGE_PIN_SPLIT_ORD_LIMIT);
}

/* Catches both a saturated field and one with fewer than @nr references. */
static __always_inline bool page_pin_split_sub_leaves(unsigned int old, int nr)
{
	return unlikely(page_pin_split_ordinary(old) - nr >=
			PAGE_PIN_SPLIT_ORD_LIMIT);
}

static __always_inline void page_pin_split_add(atomic_t *v, int nr)
{
	unsigned int old = atomic_fetch_add_relaxed(nr, v);

	if (page_pin_split_add_leaves(old, nr))
		page_pin_split_saturate(v);
}

static __always_inline void page_pin_split_sub(atomic_t *v, int nr)
{
	unsigned int old = atomic_fetch_sub_relaxed(nr, v);

	if (page_pin_split_sub_leaves(old, nr))
		page_pin_split_sub_slow(v, old, nr);
}

static __always_inline bool page_pin_split_sub_and_test(atomic_t *v, int nr)
{
	unsigned int old = atomic_fetch_sub(nr, v);

	if (page_pin_split_sub_leaves(old, nr))
		return page_pin_split_sub_slow(v, old, nr);
	return old == (unsigned int)nr;
}

static __always_inline int page_pin_split_add_return(atomic_t *v, int nr)
{
	unsigned int old = atomic_fetch_add(nr, v);

	if (page_pin_split_add_leaves(old, nr)) {
		page_pin_split_saturate(v);
		return page_pin_split_holders(atomic_read(v));
	}
	return page_pin_split_holders(old + nr);
}

static __always_inline int page_pin_split_sub_return(atomic_t *v, int nr)
{
	unsigned int old = atomic_fetch_sub(nr, v);

	if (page_pin_split_sub_leaves(old, nr)) {
		page_pin_split_sub_slow(v, old, nr);
		return page_pin_split_holders(atomic_read(v));
	}
	return page_pin_split_holders(old - nr);
}

static __always_inline bool page_pin_split_add_unless(atomic_t *v, int nr,
						      int u)
{
	unsigned int old = atomic_fetch_add_unless(v, nr, u);

	if (old == (unsigned int)u)
		return false;
	if (page_pin_split_add_leaves(old, nr))
		page_pin_split_saturate(v);
	return true;
}

/* Hooks at the top of mm/gup.c's functions: true when they did the work. */
bool page_pin_split_try_grab(struct folio *folio, int refs, unsigned int flags,
			     int *ret);
bool page_pin_split_trade(struct folio *folio, int refs, unsigned int flags);
bool page_pin_split_put(struct folio *folio, int refs, unsigned int flags);
bool page_pin_split_add_pin(struct folio *folio);

/* Unpin entry points that carry the pin's kind. */
void unpin_user_folio_kind(struct folio *folio, unsigned long npages,
			   enum page_pin_kind kind);
void unpin_user_page_kind(struct page *page, enum page_pin_kind kind);
void unpin_user_pages_kind(struct page **pages, unsigned long npages,
			   enum page_pin_kind kind);

/* R vs R/W: exact for order-0 folios, "maybe" for large ones. */
bool folio_maybe_dma_pinned_for_write(struct folio *folio);

#endif /* _LINUX_PAGE_PIN_SPLIT_H */
