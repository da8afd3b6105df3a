-- DropIndex
DROP INDEX "A_y_idx";

-- CreateIndex
CREATE INDEX "A_y_x_idx" ON "A"("y", "x");

-- RenameForeignKey
ALTER TABLE "D" RENAME CONSTRAINT "D_v_fkey" TO "D_ren";

-- AddForeignKey
ALTER TABLE "B" ADD CONSTRAINT "B_aId_fkey" FOREIGN KEY ("aId") REFERENCES "A"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- RenameIndex
ALTER INDEX "old_x" RENAME TO "new_x";
