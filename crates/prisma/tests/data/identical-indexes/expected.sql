-- RenameIndex
ALTER INDEX "m_old" RENAME TO "User_m_idx";
