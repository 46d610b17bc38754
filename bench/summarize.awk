# Summarize loopnfs-bench RESULT/RSS lines (from bench/run.sh) into a
# markdown table: median over rounds per server, ratio loopnfs/ganesha,
# the local-syscall limit and loopnfs's share of it, then the targets.
# Works with mawk (no gawk extensions).
#   awk -v servers="loopnfs ganesha" -f summarize.awk results.txt

function kv(line, key,    i, n, f, parts) {
	n = split(line, f, " ")
	for (i = 1; i <= n; i++) {
		if (index(f[i], key "=") == 1)
			return substr(f[i], length(key) + 2)
	}
	return ""
}

function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	if (n == 0)
		return ""
	for (i = 2; i <= n; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n % 2)
		return a[(n + 1) / 2] + 0
	return (a[n / 2] + a[n / 2 + 1]) / 2
}

function fmt(v, unit) {
	if (v == "")
		return "-"
	if (unit == "ms")
		return sprintf("%.2f", v)
	if (v >= 100)
		return sprintf("%.0f", v)
	return sprintf("%.1f", v)
}

function add(label, key, v) {
	if (v == "")
		return
	vals[label, key] = vals[label, key] " " v
}

/^RESULT / {
	label = kv($0, "label")
	w = kv($0, "workload")
	c = kv($0, "conns")
	key = w "@" c
	if (w == "readdir" || w == "local-readdir")
		add(label, key, kv($0, "entries_s"))
	else if (w ~ /seqread|seqwrite/)
		add(label, key, kv($0, "mib_s"))
	else if (w == "mixed") {
		add(label, "mixed-p99", kv($0, "p99_us") / 1000)
		add(label, "mixed-write", kv($0, "write_mib_s"))
	} else
		add(label, key, kv($0, "ops_s"))
	next
}

/^RSS / {
	label = kv($0, "label")
	v = kv($0, "vmhwm_kib") + 0
	if (v > rss[label])
		rss[label] = v
	next
}

END {
	n = 0
	row[++n] = "null@1|null (NULL)|ops/s|local-null@1"
	row[++n] = "null@4|null, 4 conns|ops/s|local-null@1"
	row[++n] = "seqwrite@1|seqwrite (UNSTABLE+COMMIT)|MiB/s|local-seqwrite@1"
	row[++n] = "seqread@1|seqread|MiB/s|local-seqread@1"
	row[++n] = "seqread@4|seqread, 4 conns|MiB/s|local-seqread@1"
	row[++n] = "randread@1|randread 4 KiB|ops/s|local-randread@1"
	row[++n] = "randread@4|randread 4 KiB, 4 conns|ops/s|local-randread@1"
	row[++n] = "create@1|create (CREATE+4 KiB WRITE)|files/s|local-create@1"
	row[++n] = "stat@1|stat (LOOKUP+GETATTR)|ops/s|local-stat@1"
	row[++n] = "stat@4|stat, 4 conns|ops/s|local-stat@1"
	row[++n] = "readdir@1|readdir (READDIRPLUS)|entries/s|local-readdir@1"
	row[++n] = "remove@1|remove|files/s|local-remove@1"
	row[++n] = "mixed-write|mixed: writer (1 conn)|MiB/s|local-seqwrite@1"
	row[++n] = "mixed-p99|mixed: GETATTR p99 (lower is better)|ms|"

	ns = split(servers, sv, " ")
	haveL = haveG = 0
	for (i = 1; i <= ns; i++) {
		if (sv[i] == "loopnfs") haveL = 1
		if (sv[i] == "ganesha") haveG = 1
	}

	print "| workload | unit | loopnfs | ganesha | ratio | local limit | loopnfs / local |"
	print "|---|---|---:|---:|---:|---:|---:|"
	for (i = 1; i <= n; i++) {
		split(row[i], f, "|")
		key = f[1]; title = f[2]; unit = f[3]; lkey = f[4]
		L = median(vals["loopnfs", key])
		G = median(vals["ganesha", key])
		X = lkey == "" ? "" : median(vals["local", lkey])
		M[key] = L; MG[key] = G; MX[key] = X
		if (L == "" && G == "")
			continue
		ratio = "-"
		if (L != "" && G != "" && L > 0 && G > 0)
			ratio = sprintf("%.2fx", unit == "ms" ? G / L : L / G)
		pl = "-"
		if (L != "" && X != "" && X > 0)
			pl = sprintf("%.0f%%", 100 * L / X)
		print "| " title " | " unit " | " fmt(L, unit) " | " fmt(G, unit) " | " ratio " | " fmt(X, unit) " | " pl " |"
	}
	print ""
	if ("loopnfs" in rss)
		printf "loopnfsd peak RSS (VmHWM, max over rounds): %.1f MiB\n", rss["loopnfs"] / 1024
	if ("ganesha" in rss)
		printf "ganesha.nfsd peak RSS (VmHWM, max over rounds): %.1f MiB\n", rss["ganesha"] / 1024
	print ""
	if ("loopnfs-base" in rss) {
		print "A/B: this build against the baseline (LOOPNFSD_BASE), same run:"
		print ""
		print "| workload | unit | loopnfs | loopnfs-base | new / base |"
		print "|---|---|---:|---:|---:|"
		for (i = 1; i <= n; i++) {
			split(row[i], f, "|")
			L = median(vals["loopnfs", f[1]])
			B = median(vals["loopnfs-base", f[1]])
			if (L == "" || B == "" || L <= 0 || B <= 0)
				continue
			r = sprintf("%.2f", f[3] == "ms" ? B / L : L / B)
			print "| " f[2] " | " f[3] " | " fmt(L, f[3]) " | " fmt(B, f[3]) " | " r " |"
		}
		printf "\nloopnfs-base peak RSS: %.1f MiB\n\n", rss["loopnfs-base"] / 1024
	}
	print "ratio = loopnfs / ganesha (for the GETATTR p99 row: ganesha / loopnfs); values are medians over rounds."
	print "local limit = the same work done with plain syscalls by one thread on the same filesystem"
	print "(null: TCP ping-pong over loopback at the same queue depth)."
	if (!haveL || !haveG)
		exit 0

	print ""
	print "Targets (qd 16, informational; the benchmark asserts no speed):"
	tgt("null >= 2x ganesha", M["null@1"], 2 * MG["null@1"])
	tgt("null >= 80% of TCP ping-pong", M["null@1"], 0.8 * MX["null@1"])
	tgt("stat >= 2x ganesha", M["stat@1"], 2 * MG["stat@1"])
	tgt("seqread >= 4x ganesha", M["seqread@1"], 4 * MG["seqread@1"])
	tgt("seqread >= 40% of local pread", M["seqread@1"], 0.4 * MX["seqread@1"])
	tgt("seqwrite >= 2x ganesha", M["seqwrite@1"], 2 * MG["seqwrite@1"])
	tgt("seqwrite >= 60% of local pwrite+fdatasync", M["seqwrite@1"], 0.6 * MX["seqwrite@1"])
	tgt("create >= 1.5x ganesha", M["create@1"], 1.5 * MG["create@1"])
	tgt("remove >= 1.5x ganesha", M["remove@1"], 1.5 * MG["remove@1"])
	tgt("readdir >= ganesha entries/s", M["readdir@1"], MG["readdir@1"])
	tgt("null 4 conns >= 1 conn", M["null@4"], M["null@1"])
	tgt("seqread 4 conns >= 1 conn", M["seqread@4"], M["seqread@1"])
	tgt("randread 4 conns >= 1 conn", M["randread@4"], M["randread@1"])
	tgt("stat 4 conns >= 1 conn", M["stat@4"], M["stat@1"])
	if (M["mixed-p99"] != "")
		printf "- [%s] mixed GETATTR p99 < 5 ms (%.2f ms)\n", (M["mixed-p99"] < 5) ? "met" : "MISSED", M["mixed-p99"]
	if ("loopnfs" in rss)
		printf "- [%s] loopnfsd peak RSS < 64 MiB (%.1f MiB)\n", (rss["loopnfs"] < 65536) ? "met" : "MISSED", rss["loopnfs"] / 1024
}

function tgt(what, have, need,    ok) {
	if (have == "" || need == "")
		return
	ok = (have + 0 >= need + 0) ? "met" : "MISSED"
	printf "- [%s] %s (%s vs %s)\n", ok, what, fmt(have, ""), fmt(need, "")
}
