"""Small pieces shared by every domain: errors, ids, time, rate limiting."""
