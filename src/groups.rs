//! Grouped views: sessions aggregated by user, client host or database.
