"""Pure booking helpers: free meeting slots, calendar files and phone numbers."""
