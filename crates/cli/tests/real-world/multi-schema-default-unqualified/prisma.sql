-- AlterEnum
ALTER TYPE "E" ADD VALUE 'b';

-- AlterEnum
ALTER TYPE "other"."G" ADD VALUE 'b';

-- AlterTable
ALTER TABLE "A" ADD COLUMN     "n" INTEGER NOT NULL;

-- AlterTable
ALTER TABLE "other"."C" ADD COLUMN     "n" INTEGER NOT NULL;

-- CreateTable
CREATE TABLE "D" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "D_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "A_n_idx" ON "A"("n");

-- CreateIndex
CREATE INDEX "C_n_idx" ON "other"."C"("n");

-- AddForeignKey
ALTER TABLE "other"."C" ADD CONSTRAINT "C_n_fkey" FOREIGN KEY ("n") REFERENCES "A"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

