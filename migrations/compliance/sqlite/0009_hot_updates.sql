-- The PostgreSQL stream leaves room on each page for heap-only updates of codes and refresh tokens. SQLite stores
-- rows in B-trees and has no such setting: this version changes nothing, and keeps the two streams' numbers in step.

SELECT 1;
