#!/usr/bin/Rscript
# Exports the German Credit data (1,000 applicants; Dua & Graff, UCI; as shipped
# by Debian's r-cran-caret, GPL >= 2) to CSV for `probkit reproduce credit` and
# `probkit scorecard`.  The data are not committed: run
#   Rscript tests/ref/metrics_german_credit.R [DATA_DIR]
# (DATA_DIR defaults to $PROBKIT_DATA, else ./data); it writes DATA_DIR/credit/german_credit.csv
# with the 0/1 column `default` (1 = Class "Bad") in place of `Class`.
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) > 0) args[1] else Sys.getenv("PROBKIT_DATA", "data")
load("/usr/lib/R/site-library/caret/data/GermanCredit.RData")
g <- GermanCredit
g$default <- as.integer(g$Class == "Bad")
g$Class <- NULL
dir.create(file.path(dir, "credit"), recursive = TRUE, showWarnings = FALSE)
out <- file.path(dir, "credit", "german_credit.csv")
write.csv(g, out, row.names = FALSE, quote = FALSE)
cat("wrote", nrow(g), "rows x", ncol(g), "columns to", out, "\n")
