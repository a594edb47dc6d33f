/* The JITed code of a loaded BPF program and where each piece comes from
 * (root): writes the image (all functions, in order) to OUT.bin and prints
 * one line per function ("func N ADDR LEN": kernel address and length)
 * and one per JIT line record ("ADDR FILE:LINE:COL SOURCE"), in the
 * program's order. tools/bpf-prof.sh disassembles the image with objdump and puts
 * perf's samples on it: this system's perf and bpftool are built without
 * the disassembler that `perf annotate` and `bpftool prog dump jited` need.
 *
 * Usage: bpf-jit-lines PROG_ID OUT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info), n_funcs, n_lines, rec;
	struct bpf_line_info *lines = NULL;
	__u64 *jlines = NULL, *ksyms = NULL;
	__u32 *flens = NULL;
	struct btf *btf = NULL;
	void *image = NULL;
	char path[4096];
	int fd, rc = 1;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: bpf-jit-lines PROG_ID OUT\n");
		return 2;
	}
	fd = bpf_prog_get_fd_by_id((__u32)strtoul(argv[1], NULL, 0));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "bpf-jit-lines: program %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	n_funcs = info.nr_jited_ksyms;
	n_lines = info.nr_jited_line_info;
	rec = info.line_info_rec_size;
	image = malloc(info.jited_prog_len);
	lines = calloc(n_lines ? n_lines : 1, rec ? rec : sizeof(*lines));
	jlines = calloc(n_lines ? n_lines : 1, sizeof(*jlines));
	ksyms = calloc(n_funcs ? n_funcs : 1, sizeof(*ksyms));
	flens = calloc(n_funcs ? n_funcs : 1, sizeof(*flens));
	if (!image || !lines || !jlines || !ksyms || !flens || !info.jited_prog_len ||
	    n_lines != info.nr_line_info) {
		fprintf(stderr, "bpf-jit-lines: program %s: no JIT image or line info\n", argv[1]);
		goto out;
	}
	{
		struct bpf_prog_info q;

		/* memset, not an initializer: the kernel refuses (E2BIG) a
		 * struct longer than its own unless the excess is zero, and
		 * an initializer leaves the tail padding as it finds it. */
		memset(&q, 0, sizeof(q));
		q.jited_prog_len = info.jited_prog_len;
		q.jited_prog_insns = (__u64)(unsigned long)image;
		q.nr_line_info = n_lines;
		q.line_info_rec_size = rec;
		q.line_info = (__u64)(unsigned long)lines;
		q.nr_jited_line_info = n_lines;
		q.jited_line_info_rec_size = sizeof(__u64);
		q.jited_line_info = (__u64)(unsigned long)jlines;
		q.nr_jited_ksyms = n_funcs;
		q.jited_ksyms = (__u64)(unsigned long)ksyms;
		q.nr_jited_func_lens = n_funcs;
		q.jited_func_lens = (__u64)(unsigned long)flens;
		len = sizeof(q);
		if (bpf_obj_get_info_by_fd(fd, &q, &len)) {
			fprintf(stderr, "bpf-jit-lines: program %s: %s\n", argv[1], strerror(errno));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s.bin", argv[2]);
	f = fopen(path, "w");
	if (!f || fwrite(image, 1, info.jited_prog_len, f) != info.jited_prog_len || fclose(f)) {
		fprintf(stderr, "bpf-jit-lines: %s: %s\n", path, strerror(errno));
		goto out;
	}
	btf = btf__load_from_kernel_by_id(info.btf_id);
	for (__u32 i = 0; i < n_funcs; i++)
		printf("func %u %llx %u\n", i, (unsigned long long)ksyms[i], flens[i]);
	for (__u32 i = 0; i < n_lines; i++) {
		const struct bpf_line_info *l = (const void *)((const char *)lines + (size_t)i * rec);
		const char *file = btf ? btf__name_by_offset(btf, l->file_name_off) : NULL;
		const char *src = btf ? btf__name_by_offset(btf, l->line_off) : NULL;

		printf("%llx %s:%u:%u %s\n", (unsigned long long)jlines[i], file ? file : "?",
		       BPF_LINE_INFO_LINE_NUM(l->line_col), BPF_LINE_INFO_LINE_COL(l->line_col),
		       src ? src : "");
	}
	rc = 0;
out:
	btf__free(btf);
	free(image);
	free(lines);
	free(jlines);
	free(ksyms);
	free(flens);
	close(fd);
	return rc;
}
