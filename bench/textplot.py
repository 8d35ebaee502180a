# textplot.py - the benchmarks' plots for docs/benchmarks.md: one text bar per row, scaled
# to the longest, so a script's own output is the plot (no plotting package needed).
"""bars(title, rows, fmt): rows are (label, value); print title, then one bar per row."""


def bars(title, rows, fmt="%.2f", width=50):
    top = max(v for _, v in rows) or 1
    lw = max(len(label) for label, _ in rows)
    print("\n" + title)
    for label, v in rows:
        print("  %-*s %s %s" % (lw, label, "#" * max(1, round(width * v / top)), fmt % v))
