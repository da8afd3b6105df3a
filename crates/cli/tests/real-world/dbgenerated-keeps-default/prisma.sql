-- DropIndex
DROP INDEX "A_e_key";

-- DropIndex
DROP INDEX "ab";

-- DropIndex
DROP INDEX "A_a_b_key";

-- AlterTable
ALTER TABLE "A" DROP COLUMN "b",
ADD COLUMN     "bee" INTEGER NOT NULL,
ALTER COLUMN "e" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "A_e_key" ON "A"("e" DESC);

-- CreateIndex
CREATE INDEX "ab" ON "A"("bee", "a");

-- CreateIndex
CREATE UNIQUE INDEX "A_a_bee_key" ON "A"("a", "bee");

