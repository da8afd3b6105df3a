-- haste:statement-timeout 18446744073709551615s
SELECT 1;
