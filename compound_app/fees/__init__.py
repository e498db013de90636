"""Fees: schedules, bills, payments, receipts, arrears, cash, expenses, finance boards."""
