-- DropIndex
DROP INDEX "A_x_y_idx";

-- DropIndex
DROP INDEX "A_y_z_key";

-- AlterTable
ALTER TABLE "A" RENAME CONSTRAINT "A_pkey" TO "A_primary",
DROP COLUMN "y";

-- AlterTable
ALTER TABLE "B" RENAME CONSTRAINT "B_pkey" TO "B_pk";

-- CreateIndex
CREATE INDEX "A_x_y_idx" ON "A"("x", "z");

-- RenameForeignKey
ALTER TABLE "B" RENAME CONSTRAINT "B_aId_fkey" TO "B_a_fk";

-- RenameIndex
ALTER INDEX "B_aId_k_idx" RENAME TO "B_idx2";
