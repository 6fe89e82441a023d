// SPDX-License-Identifier: GPL-2.0-only
/*
 * The split page refcount's slow paths, GUP hooks and debugfs view, written
 * for pinsplit's kernel trial. The layout and its rules are in
 * include/linux/page_pin_split.h.
 *
 * debugfs page_pin_split/
 *   layout  the field widths and the ordinary field's limit
 *   stats   refusals per field, saturations, unpins by how their kind was
 *           known, ordinary underflows undone
 *   pfn     write a PFN, read back its word split into fields
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/page_pin_split.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "internal.h"

static struct {
	atomic_long_t refused[2];
	atomic_long_t saturations;
	atomic_long_t underflows;
	atomic_long_t unpins_known;
	atomic_long_t unpins_inferred;
	atomic_long_t unpins_ambiguous;
	atomic_long_t unpin_underflows;
	atomic_long_t add_pin_full;
} pin_split_stats;

static const char *const pin_kind_name[] = { "read", "rw" };

static inline unsigned int field_of(unsigned int word, enum page_pin_kind kind)
{
	return kind == PAGE_PIN_READ ? page_pin_split_read(word) :
				       page_pin_split_rw(word);
}

static inline unsigned int shift_of(enum page_pin_kind kind)
{
	return kind == PAGE_PIN_READ ? PAGE_PIN_SPLIT_READ_SHIFT :
				       PAGE_PIN_SPLIT_RW_SHIFT;
}

static inline unsigned int max_of(enum page_pin_kind kind)
{
	return kind == PAGE_PIN_READ ? PAGE_PIN_SPLIT_READ_MAX :
				       PAGE_PIN_SPLIT_RW_MAX;
}

static inline enum page_pin_kind kind_of_flags(unsigned int flags)
{
	if (flags & PAGE_PIN_SPLIT_FOLL_UNKNOWN)
		return PAGE_PIN_UNKNOWN;
	return (flags & FOLL_WRITE) ? PAGE_PIN_RW : PAGE_PIN_READ;
}

/* The only non-empty pin field, or R/W when both hold pins. */
static inline enum page_pin_kind infer_kind(unsigned int word, bool *ambiguous)
{
	*ambiguous = page_pin_split_read(word) && page_pin_split_rw(word);
	return page_pin_split_rw(word) ? PAGE_PIN_RW : PAGE_PIN_READ;
}

void page_pin_split_saturate(atomic_t *v)
{
	unsigned int old = atomic_read(v), new;

	do {
		new = (old & ~PAGE_PIN_SPLIT_ORD_MASK) |
		      PAGE_PIN_SPLIT_ORD_SATURATED;
	} while (!atomic_try_cmpxchg_relaxed(v, (int *)&old, new));
	atomic_long_inc(&pin_split_stats.saturations);
	pr_warn_once("page_pin_split: ordinary references saturated, leaking a page\n");
}
EXPORT_SYMBOL(page_pin_split_saturate);

bool page_pin_split_sub_slow(atomic_t *v, unsigned int old, int nr)
{
	if (page_pin_split_ordinary(old) >= PAGE_PIN_SPLIT_ORD_LIMIT) {
		page_pin_split_saturate(v);
		return false;
	}
	/* A put without a reference: undo it before it borrows from a pin. */
	atomic_add(nr, v);
	atomic_long_inc(&pin_split_stats.underflows);
	WARN_ONCE(1, "page_pin_split: put of %d ordinary references on word %#x\n",
		  nr, old);
	return false;
}
EXPORT_SYMBOL(page_pin_split_sub_slow);

/*
 * Moves @refs units into @kind's field, taking @trade ordinary references out
 * in the same compare-exchange (GUP-fast already holds them).
 */
static int pin_split_pin(struct folio *folio, int refs, enum page_pin_kind kind,
			 int trade)
{
	atomic_t *v = &folio->_refcount;
	unsigned int old = atomic_read(v), new;

	do {
		if (field_of(old, kind) + refs > max_of(kind)) {
			atomic_long_inc(&pin_split_stats.refused[kind]);
			return -EAGAIN;
		}
		new = old + ((unsigned int)refs << shift_of(kind)) - trade;
	} while (!atomic_try_cmpxchg(v, (int *)&old, new));
	node_stat_mod_folio(folio, NR_FOLL_PIN_ACQUIRED, refs);
	return 0;
}

static void pin_split_unpin(struct folio *folio, int refs,
			    enum page_pin_kind kind)
{
	atomic_t *v = &folio->_refcount;
	unsigned int old = atomic_read(v), new;
	enum page_pin_kind field;
	bool ambiguous = false;

	do {
		field = kind == PAGE_PIN_UNKNOWN ? infer_kind(old, &ambiguous) :
						   kind;
		if (field_of(old, field) < refs) {
			atomic_long_inc(&pin_split_stats.unpin_underflows);
			WARN_ONCE(1, "page_pin_split: unpin of %d %s pins on word %#x\n",
				  refs, pin_kind_name[field], old);
			return;
		}
		new = old - ((unsigned int)refs << shift_of(field));
	} while (!atomic_try_cmpxchg(v, (int *)&old, new));

	if (kind != PAGE_PIN_UNKNOWN)
		atomic_long_inc(&pin_split_stats.unpins_known);
	else if (ambiguous)
		atomic_long_inc(&pin_split_stats.unpins_ambiguous);
	else
		atomic_long_inc(&pin_split_stats.unpins_inferred);
	node_stat_mod_folio(folio, NR_FOLL_PIN_RELEASED, refs);
	if (!new)
		__folio_put(folio);
}

static inline bool pin_split_applies(struct folio *folio, unsigned int flags)
{
	return (flags & FOLL_PIN) && !(flags & FOLL_GET) &&
	       !folio_test_large(folio);
}

bool page_pin_split_try_grab(struct folio *folio, int refs, unsigned int flags,
			     int *ret)
{
	if (!pin_split_applies(folio, flags))
		return false;
	if (WARN_ON_ONCE(folio_ref_count(folio) <= 0))
		*ret = -ENOMEM;
	else if (is_zero_folio(folio))
		*ret = 0;
	else
		*ret = pin_split_pin(folio, refs, kind_of_flags(flags), 0);
	return true;
}

bool page_pin_split_trade(struct folio *folio, int refs, unsigned int flags)
{
	return !pin_split_pin(folio, refs, kind_of_flags(flags), refs);
}

bool page_pin_split_put(struct folio *folio, int refs, unsigned int flags)
{
	if (!pin_split_applies(folio, flags))
		return false;
	if (!is_zero_folio(folio))
		pin_split_unpin(folio, refs, kind_of_flags(flags));
	return true;
}

/* An extra pin of a kind we must infer: the caller already holds one. */
bool page_pin_split_add_pin(struct folio *folio)
{
	bool ambiguous;
	enum page_pin_kind kind;

	if (folio_test_large(folio) || is_zero_folio(folio))
		return false;
	kind = infer_kind(atomic_read(&folio->_refcount), &ambiguous);
	if (pin_split_pin(folio, 1, kind, 0))
		atomic_long_inc(&pin_split_stats.add_pin_full);
	return true;
}

void unpin_user_folio_kind(struct folio *folio, unsigned long npages,
			   enum page_pin_kind kind)
{
	if (folio_test_large(folio)) {
		unpin_user_folio(folio, npages);
		return;
	}
	if (!is_zero_folio(folio))
		pin_split_unpin(folio, npages, kind);
}
EXPORT_SYMBOL(unpin_user_folio_kind);

void unpin_user_page_kind(struct page *page, enum page_pin_kind kind)
{
	unpin_user_folio_kind(page_folio(page), 1, kind);
}
EXPORT_SYMBOL(unpin_user_page_kind);

void unpin_user_pages_kind(struct page **pages, unsigned long npages,
			   enum page_pin_kind kind)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		if (pages[i])
			unpin_user_page_kind(pages[i], kind);
}
EXPORT_SYMBOL(unpin_user_pages_kind);

bool folio_maybe_dma_pinned_for_write(struct folio *folio)
{
	if (folio_test_large(folio))
		return folio_maybe_dma_pinned(folio);
	return page_pin_split_rw(atomic_read(&folio->_refcount)) != 0;
}
EXPORT_SYMBOL(folio_maybe_dma_pinned_for_write);

#ifdef CONFIG_DEBUG_FS
static DEFINE_MUTEX(pin_split_pfn_lock);
static unsigned long pin_split_pfn;

static int layout_show(struct seq_file *m, void *v)
{
	seq_printf(m, "read_bits %u\nrw_bits %u\nordinary_bits %u\n",
		   PAGE_PIN_SPLIT_READ_BITS, PAGE_PIN_SPLIT_RW_BITS,
		   PAGE_PIN_SPLIT_ORD_BITS);
	seq_printf(m, "read_max %u\nrw_max %u\nordinary_limit %u\nordinary_saturated %u\n",
		   PAGE_PIN_SPLIT_READ_MAX, PAGE_PIN_SPLIT_RW_MAX,
		   PAGE_PIN_SPLIT_ORD_LIMIT, PAGE_PIN_SPLIT_ORD_SATURATED);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(layout);

static int stats_show(struct seq_file *m, void *v)
{
	seq_printf(m, "read_refused %ld\nrw_refused %ld\n",
		   atomic_long_read(&pin_split_stats.refused[PAGE_PIN_READ]),
		   atomic_long_read(&pin_split_stats.refused[PAGE_PIN_RW]));
	seq_printf(m, "saturations %ld\nordinary_underflows %ld\n",
		   atomic_long_read(&pin_split_stats.saturations),
		   atomic_long_read(&pin_split_stats.underflows));
	seq_printf(m, "unpins_known %ld\nunpins_inferred %ld\nunpins_ambiguous %ld\n",
		   atomic_long_read(&pin_split_stats.unpins_known),
		   atomic_long_read(&pin_split_stats.unpins_inferred),
		   atomic_long_read(&pin_split_stats.unpins_ambiguous));
	seq_printf(m, "unpin_underflows %ld\nadd_pin_full %ld\n",
		   atomic_long_read(&pin_split_stats.unpin_underflows),
		   atomic_long_read(&pin_split_stats.add_pin_full));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int pfn_show(struct seq_file *m, void *v)
{
	unsigned long pfn;
	unsigned int word;
	struct page *page;

	mutex_lock(&pin_split_pfn_lock);
	pfn = pin_split_pfn;
	mutex_unlock(&pin_split_pfn_lock);
	if (!pfn_valid(pfn))
		return -ENXIO;
	page = pfn_to_page(pfn);
	if (PageCompound(page)) {
		seq_printf(m, "pfn %lu large\n", pfn);
		return 0;
	}
	word = atomic_read(&page->_refcount);
	seq_printf(m, "pfn %lu word %#x ordinary %u read %u rw %u saturated %d\n",
		   pfn, word, page_pin_split_ordinary(word),
		   page_pin_split_read(word), page_pin_split_rw(word),
		   page_pin_split_ordinary(word) >= PAGE_PIN_SPLIT_ORD_LIMIT);
	return 0;
}

static ssize_t pfn_write(struct file *file, const char __user *buf,
			 size_t count, loff_t *ppos)
{
	unsigned long pfn;
	int err = kstrtoul_from_user(buf, count, 0, &pfn);

	if (err)
		return err;
	mutex_lock(&pin_split_pfn_lock);
	pin_split_pfn = pfn;
	mutex_unlock(&pin_split_pfn_lock);
	return count;
}

static int pfn_open(struct inode *inode, struct file *file)
{
	return single_open(file, pfn_show, NULL);
}

static const struct file_operations pfn_fops = {
	.open = pfn_open,
	.read = seq_read,
	.write = pfn_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init page_pin_split_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("page_pin_split", NULL);

	debugfs_create_file("layout", 0444, dir, NULL, &layout_fops);
	debugfs_create_file("stats", 0444, dir, NULL, &stats_fops);
	debugfs_create_file("pfn", 0644, dir, NULL, &pfn_fops);
	return 0;
}
late_initcall(page_pin_split_debugfs_init);
#endif

static int __init page_pin_split_check_flags(void)
{
	BUILD_BUG_ON(PAGE_PIN_SPLIT_FOLL_UNKNOWN &
		     (INTERNAL_GUP_FLAGS | FOLL_WRITE | FOLL_GET | FOLL_DUMP |
		      FOLL_FORCE | FOLL_NOWAIT | FOLL_NOFAULT | FOLL_HWPOISON |
		      FOLL_ANON | FOLL_LONGTERM | FOLL_SPLIT_PMD |
		      FOLL_PCI_P2PDMA | FOLL_INTERRUPTIBLE |
		      FOLL_HONOR_NUMA_FAULT));
	BUILD_BUG_ON(PAGE_PIN_SPLIT_ORD_BITS < 8);
	return 0;
}
early_initcall(page_pin_split_check_flags);
