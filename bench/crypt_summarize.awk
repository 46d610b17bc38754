# Summarize bench/crypt.sh's RESULT/RSS lines into a markdown table: the
# median over rounds per target and workload, and the ratios view /
# passthrough and view / gocryptfs. Works with mawk (no gawk extensions).
#   awk -f crypt_summarize.awk results.txt
# A row is a workload and the requests in flight: NFS --qd (one connection)
# or local threads.

function kv(line, key,    i, n, f) {
	n = split(line, f, " ")
	for (i = 1; i <= n; i++)
		if (index(f[i], key "=") == 1)
			return substr(f[i], length(key) + 2)
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

function fmt(v) {
	if (v == "")
		return "-"
	return v >= 100 ? sprintf("%.0f", v) : sprintf("%.1f", v)
}

function ratio(a, b) {
	if (a == "" || b == "" || b <= 0)
		return "-"
	return sprintf("%.2fx", a / b)
}

/^RESULT / {
	label = kv($0, "label")
	w = kv($0, "workload")
	if (index(w, "local-") == 1) {
		w = substr(w, 7)
		inflight = kv($0, "conns")
	} else
		inflight = kv($0, "conns") * kv($0, "qd")
	if (w == "readdirplus")
		w = "readdir"
	if (w == "readdir")
		v = kv($0, "entries_s")
	else if (w == "seqread")
		v = kv($0, "mib_s")
	else
		v = kv($0, "ops_s")
	vals[label, w "@" inflight] = vals[label, w "@" inflight] " " v
	rounds[kv($0, "round")] = 1
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
	row[++n] = "seqread@1|seqread, 1 MiB reads, 1 in flight|MiB/s"
	row[++n] = "seqread@16|seqread, 1 MiB reads, 16 in flight|MiB/s"
	row[++n] = "randread@1|randread 4 KiB, 1 in flight|ops/s"
	row[++n] = "randread@16|randread 4 KiB, 16 in flight|ops/s"
	row[++n] = "readdir@1|readdir + attributes, 1 listing at a time|entries/s"
	nt = split("passthrough view gocryptfs plain", tg, " ")

	print "| workload | unit | passthrough (NFS) | view (NFS) | gocryptfs -reverse (FUSE) | plain (local) | view / passthrough | view / gocryptfs |"
	print "|---|---|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= n; i++) {
		split(row[i], f, "|")
		line = "| " f[2] " | " f[3]
		for (j = 1; j <= nt; j++) {
			M[tg[j]] = median(vals[tg[j], f[1]])
			line = line " | " fmt(M[tg[j]])
		}
		line = line " | " ratio(M["view"], M["passthrough"]) " | " ratio(M["view"], M["gocryptfs"]) " |"
		print line
	}
	print ""
	nr = 0
	for (r in rounds)
		nr++
	printf "Medians over %d round(s). Peak RSS (VmHWM, max over rounds):", nr
	sep = " "
	for (j = 1; j <= nt; j++)
		if (tg[j] in rss) {
			printf "%s%s %.1f MiB", sep, tg[j], rss[tg[j]] / 1024
			sep = ", "
		}
	print "."
	print "NFS: loopnfs-bench (libnfs), one connection, --qd = requests in flight."
	print "Local: 1 or 16 threads of pread (on the FUSE mount each range read is then dropped from its page cache,"
	print "so every read reaches gocryptfs), and getdents64 + fstatat of every entry."
}
