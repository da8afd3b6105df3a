
-- AlterTable
ALTER TABLE "Zeta" ALTER COLUMN "b" SET NOT NULL,
ALTER COLUMN "b" SET DEFAULT 0,
ALTER COLUMN "a" SET NOT NULL,
ALTER COLUMN "a" SET DEFAULT 0;

-- AlterTable
ALTER TABLE "_AlphaToZeta" ADD CONSTRAINT "_AlphaToZeta_AB_pkey" PRIMARY KEY ("A", "B");

-- DropIndex
DROP INDEX "_AlphaToZeta_AB_unique";

-- AlterTable
ALTER TABLE "_Pairs" ADD CONSTRAINT "_Pairs_AB_pkey" PRIMARY KEY ("A", "B");

-- DropIndex
DROP INDEX "_Pairs_AB_unique";

-- CreateTable
CREATE TABLE "Beta" (
    "id" INTEGER NOT NULL,
    "z" INTEGER NOT NULL,

    CONSTRAINT "Beta_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Beta_z_idx" ON "Beta"("z");

-- CreateIndex
CREATE INDEX "Zeta_b_idx" ON "Zeta"("b");

-- RenameIndex
ALTER INDEX "alpha_x" RENAME TO "Alpha_x_idx";

-- RenameIndex
ALTER INDEX "zeta_a" RENAME TO "Zeta_a_idx";

