# Runs one of the bench models with rstan and writes draws as CSV (chain, draw,
# parameters in probkit's parameterisation).  Usage:
#   Rscript stan_run.R MODEL OUT.csv SEED WARMUP DRAWS DATA_CSV
# Prints "compile_seconds", "sample_seconds" (wall clock of sampling(), 4 chains on
# 2 cores, R worker start-up included) and "chain_seconds_sum" (Stan's own timers).
suppressMessages(library(rstan))
args <- commandArgs(trailingOnly = TRUE)
model <- args[1]; out <- args[2]; seed <- as.integer(args[3])
warmup <- as.integer(args[4]); draws <- as.integer(args[5]); data_csv <- args[6]

code <- list(
  "eight-schools" = "
    data { int J; vector[J] y; vector[J] sigma; }
    parameters { real mu; real<lower=0> tau; vector[J] eta; }
    model { mu ~ normal(0, 5); tau ~ cauchy(0, 5); eta ~ normal(0, 1); y ~ normal(mu + tau * eta, sigma); }",
  "logistic" = "
    data { int N; int P; matrix[N, P] X; int<lower=0, upper=1> y[N]; }
    parameters { real alpha; vector[P] beta; }
    model { alpha ~ normal(0, 5); beta ~ normal(0, 1); y ~ bernoulli_logit(alpha + X * beta); }",
  "gauss100" = "
    data { vector[100] s; }
    parameters { vector[100] x; }
    model { x ~ normal(0, s); }")

if (model == "eight-schools") {
  data <- list(J = 8, y = c(28, 8, -3, 7, -1, 1, 18, 12), sigma = c(15, 10, 16, 11, 9, 11, 10, 18))
} else if (model == "logistic") {
  raw <- as.matrix(read.csv(data_csv, header = FALSE, skip = 1))
  X <- raw[, 1:30]; X <- scale(X)  # standardised with the n-1 sd, as probkit does
  data <- list(N = nrow(X), P = 30, X = X, y = as.integer(raw[, 31]))
} else {
  data <- list(s = 0.01 * 1000^((0:99) / 99))
}
t0 <- Sys.time()
sm <- stan_model(model_code = code[[model]])
t1 <- Sys.time()
fit <- sampling(sm, data = data, chains = 4, cores = 2, iter = warmup + draws, warmup = warmup,
                seed = seed, refresh = 0)
t2 <- Sys.time()
cat("compile_seconds", as.numeric(t1 - t0, units = "secs"), "\n")
cat("sample_seconds", as.numeric(t2 - t1, units = "secs"), "\n")
# Stan's own timers (warm-up + sampling per chain), free of R's worker start-up
cat("chain_seconds_sum", sum(get_elapsed_time(fit)), "\n")
arr <- as.array(fit)  # iterations x chains x parameters (lp__ last)
np <- dim(arr)[3] - 1
rows <- list()
for (c in 1:dim(arr)[2]) {
  m <- arr[, c, 1:np, drop = FALSE][, 1, ]
  if (model == "eight-schools") m[, 2] <- log(m[, 2])  # probkit samples log tau
  rows[[c]] <- cbind(chain = c, draw = 1:nrow(m), m)
}
d <- do.call(rbind, rows)
colnames(d) <- c("chain", "draw", paste0("p", 1:np))
write.csv(d, out, row.names = FALSE, quote = FALSE)
