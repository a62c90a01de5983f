#!/usr/bin/Rscript
# Exports the German Credit data (1,000 applicants, 20 attributes; Hofmann, UCI
# Statlog) as shipped by Debian's r-cran-caret (GPL >= 2) to CSV for
# `probkit reproduce credit` and `probkit scorecard`.  The data are not committed:
# scripts/fetch_german_credit.sh runs this once and checks the result.
#   Rscript tests/ref/metrics_german_credit.R [DATA_DIR]
# (DATA_DIR defaults to $PROBKIT_DATA, else ./data); writes
# DATA_DIR/credit/german_credit.csv.  caret ships the 13 qualitative attributes
# one-hot coded (every level kept); they are folded back into one text column each
# (the level name after the prefix) so a scorecard bins each attribute as a whole.
# Added columns: `default` (1 = Class "Bad", 300 of 1000) and `female` (1 = one of the
# two Personal.Female.* levels, the protected attribute of the fairness frontier).
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) > 0) args[1] else Sys.getenv("PROBKIT_DATA", "data")
rdata <- "/usr/lib/R/site-library/caret/data/GermanCredit.RData"
if (!file.exists(rdata)) stop(paste(rdata, "is missing: apt-get install r-cran-caret"))
load(rdata)
g <- GermanCredit
out <- data.frame(row.names = seq_len(nrow(g)))
prefixes <- c("CheckingAccountStatus", "CreditHistory", "Purpose", "SavingsAccountBonds",
              "EmploymentDuration", "Personal", "OtherDebtorsGuarantors", "Property",
              "OtherInstallmentPlans", "Housing", "Job")
plain <- setdiff(names(g), c("Class", grep(paste0("^(", paste(prefixes, collapse = "|"), ")\\."),
                                           names(g), value = TRUE)))
for (p in plain) out[[p]] <- g[[p]]
for (p in prefixes) {
  cols <- grep(paste0("^", p, "\\."), names(g), value = TRUE)
  m <- as.matrix(g[, cols])
  if (any(rowSums(m) != 1)) stop(paste(p, ": dummies do not sum to one in every row"))
  out[[p]] <- sub(paste0("^", p, "\\."), "", cols)[max.col(m, ties.method = "first")]
}
out$female <- as.integer(g$Personal.Female.NotSingle == 1 | g$Personal.Female.Single == 1)
out$default <- as.integer(g$Class == "Bad")
dir.create(file.path(dir, "credit"), recursive = TRUE, showWarnings = FALSE)
path <- file.path(dir, "credit", "german_credit.csv")
tmp <- paste0(path, ".tmp.", Sys.getpid())
write.csv(out, tmp, row.names = FALSE, quote = FALSE)
invisible(file.rename(tmp, path))
cat("wrote", nrow(out), "rows x", ncol(out), "columns to", path, "\n")
