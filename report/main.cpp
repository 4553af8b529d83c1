#include "cli.hpp"

int main(int argc, char** argv) { return probe::cli::run_cli(argc, argv); }
