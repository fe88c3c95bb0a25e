//! A throwaway MariaDB/MySQL server and scenario load, for the demo, tests and benches.
