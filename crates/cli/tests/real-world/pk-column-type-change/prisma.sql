-- AlterTable
ALTER TABLE "History" DROP CONSTRAINT "History_pkey",
ALTER COLUMN "at" SET DATA TYPE TIMESTAMPTZ(3),
ADD CONSTRAINT "History_pkey" PRIMARY KEY ("id", "at");

