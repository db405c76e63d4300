"""What the tests and the benchmarks share: free ports, child processes, a Redis of their own."""
