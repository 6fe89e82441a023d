// SPDX-License-Identifier: GPL-2.0-only
/*
 * pin_trial: the attacks and costs of pinsplit's kernel trial, run inside a
 * trial kernel as root. Each subcommand prints one JSON object on stdout.
 *
 *   pin_trial attack-rw MAX          R/W pins of one anon page through io_uring
 *                                    buffer registration, 1..MAX iovecs
 *   pin_trial attack-read MAX        READ pins of one memfd page through
 *                                    gup_test's long-term pins, 1..MAX mappings
 *   pin_trial attack-ordinary REFS   ordinary references to one anon page
 *                                    through vmsplice and tee into pipes
 *   pin_trial costs PAGES REPS       fork (pinned, unpinned), COW fault,
 *                                    io_uring register, vmsplice: medians
 *
 * On a split kernel the page's fields are read through debugfs
 * page_pin_split/pfn; on a stock kernel "fields" is null. Exit status: 0 when
 * the subcommand ran (whatever the kernel decided), 2 on bad usage or when
 * the guest lacks what it needs (the JSON then says which).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define GUP_TEST "/sys/kernel/debug/gup_test"
#define SPLIT_PFN "/sys/kernel/debug/page_pin_split/pfn"

/* mm/gup_test.h's long-term pin interface, as the selftests use it. */
struct pin_longterm_test {
	uint64_t addr;
	uint64_t size;
	uint32_t flags;
};
#define PIN_LONGTERM_TEST_START _IOW('g', 7, struct pin_longterm_test)
#define PIN_LONGTERM_TEST_STOP _IO('g', 8)
#define PIN_LONGTERM_TEST_FLAG_USE_WRITE 1

struct fields {
	bool known;
	unsigned int word, ordinary, read, rw;
	int saturated;
};

static void die_usage(const char *why)
{
	printf("{\"error\": \"%s\"}\n", why);
	exit(2);
}

static unsigned long pfn_of(const void *addr)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  (uintptr_t)addr / PAGE * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	return (entry >> 63) ? entry & ((1ULL << 55) - 1) : 0;
}

static struct fields fields_of(const void *addr)
{
	struct fields f = { 0 };
	char buf[256];
	unsigned long pfn = pfn_of(addr), got;
	int fd = open(SPLIT_PFN, O_RDWR);
	ssize_t n;

	if (fd < 0 || !pfn)
		goto out;
	n = snprintf(buf, sizeof(buf), "%lu", pfn);
	if (write(fd, buf, n) != n)
		goto out;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		goto out;
	buf[n] = 0;
	f.known = sscanf(buf, "pfn %lu word %x ordinary %u read %u rw %u saturated %d",
			 &got, &f.word, &f.ordinary, &f.read, &f.rw,
			 &f.saturated) == 6 && got == pfn;
out:
	if (fd >= 0)
		close(fd);
	return f;
}

static void print_fields(const char *name, struct fields f)
{
	if (!f.known) {
		printf("\"%s\": null", name);
		return;
	}
	printf("\"%s\": {\"word\": %u, \"ordinary\": %u, \"read\": %u, \"rw\": %u, "
	       "\"saturated\": %s}",
	       name, f.word, f.ordinary, f.read, f.rw, f.saturated ? "true" : "false");
}

/* One pin attack's result: how far it got, why it stopped, the fields. */
static void print_pin_attack(const char *name, const char *mechanism, int bound,
			     int accepted, int refused_errno, struct fields before,
			     struct fields at_max, struct fields after)
{
	printf("{\"attack\": \"%s\", \"mechanism\": \"%s\", \"bound\": %d, "
	       "\"accepted\": %d, \"refused_at\": %d, \"errno\": \"%s\", ",
	       name, mechanism, bound, accepted, refused_errno ? accepted + 1 : 0,
	       refused_errno ? strerrorname_np(refused_errno) : "");
	print_fields("before", before);
	printf(", ");
	print_fields("at_max", at_max);
	printf(", ");
	print_fields("after", after);
	printf("}\n");
}

static char *anon_page(void)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die_usage("mmap failed");
	memset(p, 0x5a, PAGE);
	return p;
}

/* R/W pins: io_uring registers each iovec with FOLL_WRITE | FOLL_LONGTERM. */
static int attack_rw(int max)
{
	char *page = anon_page();
	struct fields base = fields_of(page), full = { 0 }, after;
	int accepted = 0, refused_errno = 0, k;
	struct iovec *iov = calloc(max, sizeof(*iov));

	for (k = 0; k < max; k++)
		iov[k] = (struct iovec){ page, PAGE };
	for (k = 1; k <= max; k++) {
		struct io_uring ring;
		int ret = io_uring_queue_init(4, &ring, 0);

		if (ret < 0)
			die_usage("io_uring_queue_init failed");
		ret = io_uring_register_buffers(&ring, iov, k);
		if (ret == 0) {
			accepted = k;
			full = fields_of(page);
			io_uring_unregister_buffers(&ring);
		} else {
			refused_errno = -ret;
		}
		io_uring_queue_exit(&ring);
		if (ret)
			break;
	}
	after = fields_of(page);
	print_pin_attack("rw", "io_uring_register_buffers", max, accepted, refused_errno,
			 base, full, after);
	return 0;
}

/* READ pins: gup_test pins a range without FOLL_WRITE; every page of the
 * range is the same memfd page, mapped again and again. */
static int attack_read(int max)
{
	int memfd = memfd_create("pin_trial", 0), gup = open(GUP_TEST, O_RDWR);
	int accepted = 0, refused_errno = 0, k;
	struct fields base, full = { 0 }, after;
	char *range;

	if (gup < 0)
		die_usage("no " GUP_TEST " (CONFIG_GUP_TEST, debugfs)");
	if (memfd < 0 || ftruncate(memfd, PAGE) || pwrite(memfd, "x", 1, 0) != 1)
		die_usage("memfd failed");
	range = mmap(NULL, max * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (range == MAP_FAILED)
		die_usage("mmap failed");
	for (k = 0; k < max; k++) {
		if (mmap(range + k * PAGE, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED,
			 memfd, 0) == MAP_FAILED)
			die_usage("mmap of the memfd page failed");
		(void)*(volatile char *)(range + k * PAGE);
	}
	base = fields_of(range);
	for (k = 1; k <= max; k++) {
		struct pin_longterm_test args = { (uintptr_t)range, k * PAGE, 0 };

		if (ioctl(gup, PIN_LONGTERM_TEST_START, &args)) {
			refused_errno = errno;
			break;
		}
		accepted = k;
		full = fields_of(range);
		ioctl(gup, PIN_LONGTERM_TEST_STOP);
	}
	after = fields_of(range);
	print_pin_attack("read", "gup_test PIN_LONGTERM_TEST_START", max, accepted,
			 refused_errno, base, full, after);
	close(gup);
	return 0;
}

/* Ordinary references: one pipe holds SLOTS references made by vmsplice,
 * tee copies them into more pipes; each copy takes a reference. */
static int attack_ordinary(long refs)
{
	const int slots = 4096, per_call = 1024;
	char *page = anon_page();
	struct iovec iov[1024];
	struct fields base = fields_of(page), held, after, pinned = { 0 };
	long held_refs = 0, pipes_needed = (refs + slots - 1) / slots, i;
	int (*fds)[2] = calloc(pipes_needed, sizeof(*fds));
	struct rlimit nofile = { 2 * pipes_needed + 64, 2 * pipes_needed + 64 };
	int rw_pin_ret = -1, fd;
	char size[32];

	if (!fds || setrlimit(RLIMIT_NOFILE, &nofile))
		die_usage("cannot raise RLIMIT_NOFILE");
	fd = open("/proc/sys/fs/pipe-max-size", O_WRONLY);
	snprintf(size, sizeof(size), "%lu", slots * PAGE);
	if (fd < 0 || write(fd, size, strlen(size)) < 0)
		die_usage("cannot raise pipe-max-size");
	close(fd);
	for (i = 0; i < per_call; i++)
		iov[i] = (struct iovec){ page, PAGE };
	for (i = 0; i < pipes_needed; i++) {
		if (pipe2(fds[i], O_NONBLOCK) ||
		    fcntl(fds[i][1], F_SETPIPE_SZ, slots * PAGE) < 0)
			die_usage("pipe setup failed (memory?)");
		if (i == 0) {
			for (int c = 0; c < slots / per_call; c++) {
				ssize_t n = vmsplice(fds[0][1], iov, per_call, 0);

				if (n > 0)
					held_refs += n / PAGE;
			}
		} else {
			ssize_t n = tee(fds[0][0], fds[i][1], slots * PAGE, SPLICE_F_NONBLOCK);

			if (n > 0)
				held_refs += n / PAGE;
		}
	}
	held = fields_of(page);
	/* The pin fields must still count exactly beside a saturated field. */
	{
		struct io_uring ring;
		struct iovec one = { page, PAGE };

		if (io_uring_queue_init(4, &ring, 0) == 0) {
			rw_pin_ret = io_uring_register_buffers(&ring, &one, 1);
			pinned = fields_of(page);
			if (rw_pin_ret == 0)
				io_uring_unregister_buffers(&ring);
			io_uring_queue_exit(&ring);
		}
	}
	for (i = 0; i < pipes_needed; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	after = fields_of(page);
	printf("{\"attack\": \"ordinary\", \"mechanism\": \"vmsplice + tee\", "
	       "\"target_refs\": %ld, \"pipes\": %ld, \"refs_taken\": %ld, "
	       "\"rw_pin_while_held\": %d, ",
	       refs, pipes_needed, held_refs, rw_pin_ret);
	print_fields("before", base);
	printf(", ");
	print_fields("held", held);
	printf(", ");
	print_fields("pinned_while_held", pinned);
	printf(", ");
	print_fields("after", after);
	printf("}\n");
	return 0;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double fork_once(void)
{
	double t0 = now_us();
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return now_us() - t0;
}

/* Parent writes every page while a forked child still maps them. */
static double cow_faults_us(char *mem, long pages)
{
	int go[2];
	pid_t pid;
	double t0, t;
	char c = 0;

	if (pipe(go))
		die_usage("pipe failed");
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	t0 = now_us();
	for (long i = 0; i < pages; i++)
		mem[i * PAGE] = (char)i;
	t = (now_us() - t0) / pages;
	close(go[1]);
	close(go[0]);
	waitpid(pid, NULL, 0);
	return t;
}

static int costs(long pages, int reps)
{
	double *fork_plain = calloc(reps, sizeof(double));
	double *fork_pinned = calloc(reps, sizeof(double));
	double *cow = calloc(reps, sizeof(double));
	double *reg = calloc(reps, sizeof(double));
	double *splice_us = calloc(reps, sizeof(double));
	char *mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int gup = open(GUP_TEST, O_RDWR), devnull = open("/dev/null", O_WRONLY);
	struct iovec *iov = calloc(pages, sizeof(*iov));
	struct io_uring ring;
	int p[2];

	if (mem == MAP_FAILED || gup < 0 || devnull < 0 || io_uring_queue_init(4, &ring, 0))
		die_usage("costs need mmap, " GUP_TEST ", /dev/null and io_uring");
	if (pipe(p) || fcntl(p[1], F_SETPIPE_SZ, 64 * PAGE) < 0)
		die_usage("pipe failed");
	memset(mem, 1, pages * PAGE);
	for (long i = 0; i < pages; i++)
		iov[i] = (struct iovec){ mem + i * PAGE, PAGE };
	for (int r = 0; r < reps; r++) {
		struct pin_longterm_test args = { (uintptr_t)mem, pages * PAGE,
						   PIN_LONGTERM_TEST_FLAG_USE_WRITE };
		double t0;

		fork_plain[r] = fork_once();
		if (ioctl(gup, PIN_LONGTERM_TEST_START, &args))
			die_usage("gup_test pin failed");
		fork_pinned[r] = fork_once();
		ioctl(gup, PIN_LONGTERM_TEST_STOP);
		cow[r] = cow_faults_us(mem, pages);
		t0 = now_us();
		if (io_uring_register_buffers(&ring, iov, pages > 64 ? 64 : pages))
			die_usage("io_uring_register_buffers failed");
		io_uring_unregister_buffers(&ring);
		reg[r] = now_us() - t0;
		t0 = now_us();
		for (long i = 0; i < pages; i += 16) {
			ssize_t n = vmsplice(p[1], iov + i, pages - i < 16 ? pages - i : 16, 0);

			if (n < 0 || splice(p[0], NULL, devnull, NULL, n, 0) != n)
				die_usage("vmsplice/splice failed");
		}
		splice_us[r] = (now_us() - t0) / pages;
	}
	printf("{\"costs\": {\"pages\": %ld, \"reps\": %d, "
	       "\"fork_unpinned_us\": %.2f, \"fork_pinned_us\": %.2f, "
	       "\"cow_fault_us\": %.3f, \"io_uring_register_64_us\": %.2f, "
	       "\"vmsplice_page_us\": %.3f}}\n",
	       pages, reps, median(fork_plain, reps), median(fork_pinned, reps),
	       median(cow, reps), median(reg, reps), median(splice_us, reps));
	io_uring_queue_exit(&ring);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? strtol(argv[2], NULL, 0) : 0;

	if (argc < 3 || n <= 0)
		die_usage("usage: pin_trial attack-rw|attack-read|attack-ordinary|costs N [REPS]");
	if (!strcmp(argv[1], "attack-rw") && n <= 1024)
		return attack_rw(n);
	if (!strcmp(argv[1], "attack-read") && n <= 65536)
		return attack_read(n);
	if (!strcmp(argv[1], "attack-ordinary") && n <= (1L << 26))
		return attack_ordinary(n);
	if (!strcmp(argv[1], "costs") && argc == 4 && atoi(argv[3]) > 0)
		return costs(n, atoi(argv[3]));
	die_usage("unknown subcommand or out-of-range N");
	return 2;
}
