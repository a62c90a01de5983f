/* cli_nn_lm.h — `probkit nn lm train|sample|score` (the byte-level GPT), called from cmd_nn.c. */
#ifndef PK_TOOLS_CLI_NN_LM_H
#define PK_TOOLS_CLI_NN_LM_H
/** argv[0] = "lm". Returns the exit code. */
int pk_cli_nn_lm(int argc, char **argv);
#endif
