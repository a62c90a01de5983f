#!/usr/bin/python3
"""Estimates the credit simulator's tables (src/metrics/scorecard_sim.c) from PiML's SimuCredit_v2.

"An Information-Theoretic Framework for Credit Risk Modeling" (Sudjianto & Burakov) describes
its simulated data only as 20,000 rows, 7 features (mortgage amounts, account balances, past due
amounts, utilization ratios, delinquency history, recent inquiries, trade counts), a protected
attribute split 30/70 and ~15% default; its data repository is not reachable from here.  PiML's
SimuCredit_v2 (github.com/SelfExplainML/PiML-Toolbox, datasets/SimuCredit_v2.csv; PiML is led by
the same first author) has exactly these 20,000 rows, features and 30/70 race split, with an
approval target (45% declined).  We estimate from it the generative structure it visibly has, and
an additive logit for "declined" (linear splines with knots at the quartiles, count levels), and
the C simulator resets the intercept to a 15% rate.  Nothing here looks at the paper's AUCs.

Usage: metrics_simucredit.py SimuCredit_v2.csv
Prints the C tables to stdout and writes tests/fixtures/metrics/simucredit.txt (statistics of
the source data that tests/metrics/test_scorecard.c compares the simulator with).
"""
import os
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

d = pd.read_csv(sys.argv[1])
NQ = 65
u = (np.arange(NQ) + 0.5) / NQ  # mid-point quantiles: the inverse CDF is clamped in the outer 1/(2 NQ)
race = d.Race.values
gender = d.Gender.values
lnm = np.log(d.Mortgage.values)
lim = np.log(d.Balance.values / d.Utilization.values)
util = d.Utilization.values
dl = d.Delinquency.values
frac = (d["Amount Past Due"] / d.Balance).values
inq = np.minimum(d.Inquiry.values, 6)
ot = d["Open Trade"].values
y = 1 - d.Status.values


def arr(name, v, fmt="%.9g"):
    body = ", ".join(fmt % x for x in np.ravel(v))
    return f"static const double {name}[{np.size(v)}] = {{{body}}};"


out = []
out.append(f"#define SIM_NQ {NQ}")
out.append(arr("sim_race1", [race.mean()]))
out.append(arr("sim_lnm_q0", np.quantile(lnm[race == 0], u)))
out.append(arr("sim_lnm_q1", np.quantile(lnm[race == 1], u)))
out.append(arr("sim_gender1", [gender.mean()]))
out.append(arr("sim_lim", [lim[gender == 0].mean(), lim[gender == 0].std(), lim[gender == 1].mean(),
                           lim[gender == 1].std()]))
out.append(arr("sim_util_q", np.quantile(util, u)))
out.append(arr("sim_delinq_p", [np.mean(dl == v) for v in range(6)]))
out.append(arr("sim_frac_q", np.quantile(frac[dl > 0], u)))
out.append(arr("sim_inq_p", [[np.mean(inq[dl == k] == v) for v in range(7)] for k in range(6)]))
m = inq > 0
out.append(arr("sim_ot_q", [ot[m].sum() / inq[m].sum()]))

# additive logit of "declined": linear splines (knots at the quartiles) in ln mortgage,
# balance, past due (knots over the positive part), utilization; levels of the counts
cont = {"lnm": lnm, "bal": d.Balance.values / 1000, "pd": d["Amount Past Due"].values / 1000, "ut": util}
cols, knots = {}, {}
for n, x in cont.items():
    kn = np.quantile(x[x > 0] if n == "pd" else x, [0.25, 0.5, 0.75])
    knots[n] = kn
    cols[n] = x
    for j, k in enumerate(kn):
        cols[f"{n}_k{j}"] = np.maximum(x - k, 0)
cnt = {"dl": np.minimum(dl, 5), "inq": np.minimum(inq, 4), "ot": np.minimum(ot, 3)}
for n, x in cnt.items():
    for v in range(1, int(x.max()) + 1):
        cols[f"{n}={v}"] = (x == v).astype(float)
X = pd.DataFrame(cols)
mu, sd = X.mean(), X.std()
Xs = (X - mu) / sd
lr = LogisticRegression(C=1.0, max_iter=5000).fit(Xs, y)
beta = lr.coef_[0] / sd.values
p = cross_val_predict(LogisticRegression(C=1.0, max_iter=5000), Xs, y, cv=5, method="predict_proba")[:, 1]
out.append(arr("sim_knots", [knots[n] for n in cont]))
out.append(arr("sim_beta", beta))
out.append(f"/* {len(beta)} coefficients in the order: " + " ".join(X.columns) + " */")
out.append(f"/* 5-fold CV AUC of this logit on SimuCredit_v2 (declined): {roc_auc_score(y, p):.4f} */")
print("\n".join(out))

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "metrics")
with open(os.path.join(here, "simucredit.txt"), "w") as f:
    f.write(f"protected {np.mean(race == 0):.6f}\n")
    f.write(f"mean_ln_mortgage {lnm.mean():.6f} {lnm[race == 0].mean():.6f} {lnm[race == 1].mean():.6f}\n")
    f.write(f"mean_balance {d.Balance.mean():.4f}\n")
    f.write(f"mean_utilization {util.mean():.6f}\n")
    f.write(f"delinquent_share {np.mean(dl > 0):.6f}\n")
    f.write(f"mean_inquiry {d.Inquiry.mean():.6f}\n")
    f.write(f"mean_open_trade {ot.mean():.6f}\n")
    f.write(f"mean_past_due {d['Amount Past Due'].mean():.4f}\n")
