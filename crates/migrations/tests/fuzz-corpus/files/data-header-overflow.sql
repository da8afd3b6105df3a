-- haste:data table=t key=id batch=99999999999999999999 target=99999999999999999999999h
UPDATE t SET a = 1 WHERE :range;
