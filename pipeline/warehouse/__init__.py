"""The warehouse: Hive-partitioned Parquet tables, the ledger of processed files, scorecards."""
