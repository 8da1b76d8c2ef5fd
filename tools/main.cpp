// Entry point of the `kestrel` command line; each subcommand lives in its own file.
#include <cstdio>
int main() { std::puts("kestrel: under construction"); return 0; }
